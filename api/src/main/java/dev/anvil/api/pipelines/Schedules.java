package dev.anvil.api.pipelines;

import dev.anvil.api.config.AnvilConfig;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.PipelineVersion;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.SpecException;
import dev.anvil.workflows.pipeline.spec.SpecLoader;
import io.temporal.client.WorkflowClient;
import io.temporal.client.schedules.ScheduleClient;
import io.temporal.client.schedules.ScheduleClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.util.OptionalInt;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Keeps each scheduled pipeline's schedule in step with the registry: created when a spec with a schedule is
 * registered, updated when the schedule changes, deleted when it goes. What fires it (a Temporal Schedule or
 * Anvil's durable-timer scheduler workflow) is chosen once per process by {@link #choose}, at start-up.
 * {@link #ensureAll} restores schedules after the local Temporal service lost them.
 */
@ApplicationScoped
public class Schedules {
    private static final Logger LOG = Logger.getLogger(Schedules.class);

    @Inject WorkflowClient client;
    @Inject WorkflowServiceStubs stubs;
    @Inject PipelineStore pipelines;
    @Inject AnvilConfig config;

    private volatile ScheduleBackend backend;

    /**
     * Asks the Temporal service whether it has Schedules (unless the setting says timer) and picks the backend.
     *
     * @throws IllegalStateException naming anvil.schedules.backend, when it asks for what the service lacks
     */
    public synchronized String choose() {
        if (backend == null) {
            String setting = config.schedules().backend();
            // asked even when the setting is timer: a service with Schedules may hold ones an earlier process made
            ScheduleSupportProbe.Result probe =
                    ScheduleSupportProbe.probe(stubs, config.temporal().namespace(), config.temporal().target());
            ScheduleBackendChoice choice = ScheduleBackendChoice.choose(setting, probe);
            backend = create(choice.backend(), probe.support(), client, stubs, config.temporal().namespace());
            LOG.infof("pipeline schedules: %s (%s)", choice.backend().equals(TemporalScheduleBackend.NAME)
                    ? "Temporal Schedules" : "durable-timer scheduler workflows", choice.why());
        }
        return backend.name();
    }

    /** Package-private so that a test can hand in backends of its own. */
    synchronized void use(ScheduleBackend chosen) {
        backend = chosen;
    }

    /**
     * The backend of that name; package-private for the test of the choice. The timers on a service that has
     * Schedules also delete a pipeline's Temporal Schedule left from a process that used them, so that a tick
     * does not fire twice after a switch back to timers.
     */
    static ScheduleBackend create(String name, ScheduleSupportProbe.Support support, WorkflowClient client,
                                  WorkflowServiceStubs stubs, String namespace) {
        if (name.equals(TemporalScheduleBackend.NAME)) {
            return new TemporalScheduleBackend(scheduleClient(stubs, namespace), new TimerScheduleBackend(client),
                    Clock.systemUTC());
        }
        if (support == ScheduleSupportProbe.Support.AVAILABLE) {
            return new TimerScheduleBackend(client, scheduleClient(stubs, namespace));
        }
        return new TimerScheduleBackend(client);
    }

    private static ScheduleClient scheduleClient(WorkflowServiceStubs stubs, String namespace) {
        return ScheduleClient.newInstance(stubs, ScheduleClientOptions.newBuilder().setNamespace(namespace).build());
    }

    /** "temporal" or "timer": the backend in use (health data, logs). */
    public String backendName() {
        return backend().name();
    }

    private ScheduleBackend backend() {
        ScheduleBackend chosen = backend;
        if (chosen == null) {
            choose();
            chosen = backend;
        }
        return chosen;
    }

    public void ensure(PipelineSpec spec, boolean paused) {
        backend().ensure(spec, paused);
    }

    /** Creates or updates the schedule of every registered pipeline whose newest spec has a schedule. */
    public void ensureAll(OperatorRegistry operators) {
        for (PipelineVersion v : pipelines.listLatest()) {
            try {
                PipelineSpec spec = SpecLoader.load(v.spec(), operators, Set.of());
                if (spec.schedule().isPresent()) {
                    ensure(spec, v.paused());
                }
            } catch (SpecException | RuntimeException e) {
                LOG.warnf("could not restore the schedule of '%s': %s", v.pipeline(), e.getMessage());
            }
        }
    }

    /** @return false when the pipeline has no schedule */
    public boolean pause(String pipeline, boolean paused) {
        return backend().pause(pipeline, paused);
    }

    /**
     * @param requestedBy the caller: the requester of every run the backfill starts
     * @return false when the pipeline has no schedule
     */
    public boolean backfill(String pipeline, long fromMillis, long toMillis, String requestedBy) {
        return backend().backfill(pipeline, fromMillis, toMillis, requestedBy);
    }

    /** @return how many queued ticks were dropped, or empty when the pipeline has no schedule */
    public OptionalInt cancelBackfill(String pipeline) {
        return backend().cancelBackfill(pipeline);
    }
}
