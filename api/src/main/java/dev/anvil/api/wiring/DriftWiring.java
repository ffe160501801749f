package dev.anvil.api.wiring;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.drift.DriftEvents;
import dev.anvil.activities.pipeline.EventTriggers;
import dev.anvil.activities.pipeline.RunLauncher;
import dev.anvil.db.DriftReportStore;
import dev.anvil.db.DriftWindowStore;
import dev.anvil.db.Endpoint;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.RegistryEvents;
import dev.anvil.db.TriggerEventStore;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Drift monitoring and event-triggered runs as beans: the stores, the triggers that start pipelines on
 * events, and {@link DriftEvents}, the one place a drift check is recorded (listeners such as registry
 * webhooks attach there with {@link DriftEvents#onDetected}).
 */
@ApplicationScoped
public class DriftWiring {
    @Produces
    @Singleton
    DriftWindowStore driftWindows(AgroalDataSource ds) {
        return new DriftWindowStore(ds);
    }

    @Produces
    @Singleton
    DriftReportStore driftReports(AgroalDataSource ds) {
        return new DriftReportStore(ds);
    }

    @Produces
    @Singleton
    TriggerEventStore triggerEvents(AgroalDataSource ds) {
        return new TriggerEventStore(ds);
    }

    @Produces
    @Singleton
    EventTriggers eventTriggers(PipelineStore pipelines, TriggerEventStore events, RunLauncher launcher) {
        return new EventTriggers(pipelines, OperatorRegistry.builtIns(), events, launcher);
    }

    @Produces
    @Singleton
    DriftEvents driftEvents(DriftReportStore reports, EventTriggers triggers, RegistryEvents registryEvents,
                            EndpointStore endpoints, ObjectMapper json) {
        // a detection becomes the registry event "drift.detected" for webhook subscribers
        return new DriftEvents(reports, triggers).onDetected(report -> {
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("report", report.id());
            details.put("reference", report.referenceDataset() + "@" + report.referenceVersion());
            details.put("moved", report.movedFeatures());
            details.put("run", report.runId());
            details.put("task", report.taskId());
            try {
                registryEvents.driftDetected(report.endpoint(),
                        endpoints.find(report.endpoint()).map(Endpoint::model).orElse(null), report.version(),
                        json.writeValueAsString(details));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("drift report " + report.id() + " could not be written as JSON", e);
            }
        });
    }
}
