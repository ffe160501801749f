package dev.anvil.api.wiring;

import dev.anvil.activities.drift.DriftEvents;
import dev.anvil.activities.pipeline.EventTriggers;
import dev.anvil.activities.pipeline.RunLauncher;
import dev.anvil.db.DriftReportStore;
import dev.anvil.db.DriftWindowStore;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.TriggerEventStore;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

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
    DriftEvents driftEvents(DriftReportStore reports, EventTriggers triggers) {
        return new DriftEvents(reports, triggers);
    }
}
