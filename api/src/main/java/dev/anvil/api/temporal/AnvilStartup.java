package dev.anvil.api.temporal;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.approval.ApprovalActivitiesImpl;
import dev.anvil.activities.convert.ConvertOperator;
import dev.anvil.activities.gate.GateOperator;
import dev.anvil.activities.inspect.OnnxInspector;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.Attestations;
import dev.anvil.activities.operators.InspectOperator;
import dev.anvil.activities.operators.NoopOperator;
import dev.anvil.activities.operators.Operators;
import dev.anvil.activities.operators.SleepOperator;
import dev.anvil.activities.pipeline.RunLauncher;
import dev.anvil.activities.pipeline.ScheduleActivitiesImpl;
import dev.anvil.activities.pipeline.TaskActivitiesImpl;
import dev.anvil.activities.quantize.QuantizeOperator;
import dev.anvil.activities.rollout.EvidenceAdmission;
import dev.anvil.activities.rollout.RolloutActivitiesImpl;
import dev.anvil.activities.runs.RunStateActivitiesImpl;
import dev.anvil.activities.validate.ValidateOperator;
import dev.anvil.api.config.AnvilConfig;
import dev.anvil.api.pipelines.Schedules;
import dev.anvil.api.wiring.SchemaMigration;
import dev.anvil.db.ApiTokenStore;
import dev.anvil.db.ApprovalStore;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.LineageStore;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.RolloutStore;
import dev.anvil.db.ServingCountsStore;
import dev.anvil.db.ServingSessionsStore;
import dev.anvil.db.SubmittedDecisionStore;
import dev.anvil.db.TaskRunStore;
import dev.anvil.modelkit.convert.ModelConverter;
import dev.anvil.storage.ObjectStore;
import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.pipeline.PipelineWorkflowImpl;
import dev.anvil.workflows.pipeline.schedule.PipelineScheduleWorkflowImpl;
import dev.anvil.workflows.pipeline.schedule.ScheduledTickWorkflowImpl;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Start-up in order: the schedule backend (Temporal Schedules or durable timers, see Schedules), schema migrations, the artifact bucket, reconciling in-flight runs with
 * Temporal (then again every anvil.temporal.reconcile-interval), then the worker (unless turned off).
 * Shutdown stops the worker and lets running activities finish for a few seconds.
 */
@ApplicationScoped
public class AnvilStartup {
    private static final Logger LOG = Logger.getLogger(AnvilStartup.class);

    @Inject AnvilConfig config;
    @Inject SchemaMigration schema;
    @Inject ObjectStore objects;
    @Inject ArtifactStore artifacts;
    @Inject dev.anvil.db.DatasetStore datasets;
    @Inject PipelineRunStore runs;
    @Inject TaskRunStore taskRuns;
    @Inject LineageStore lineage;
    @Inject WorkflowClient client;
    @Inject WorkflowServiceStubs stubs;
    @Inject ObjectMapper json;
    @Inject RunLauncher launcher;
    @Inject Schedules schedules;
    @Inject ModelRegistryStore registry;
    @Inject EndpointStore endpoints;
    @Inject RolloutStore rollouts;
    @Inject ServingSessionsStore servingSessions;
    @Inject ServingCountsStore servingCounts;
    @Inject AuditLogStore audit;
    @Inject ApprovalStore approvals;
    @Inject SubmittedDecisionStore submittedDecisions;
    @Inject ApiTokenStore tokens;
    @Inject Attestations attestations;
    @Inject dev.anvil.db.AttestationStore attestationStore;
    @Inject EvidenceAdmission admission;
    @Inject dev.anvil.db.ExternalTaskStore externalTasks;
    @Inject dev.anvil.activities.external.TrainingServices trainingServices;
    @Inject dev.anvil.activities.webhooks.WebhookActivitiesImpl webhookActivities;
    @Inject dev.anvil.db.DriftWindowStore driftWindows;
    @Inject dev.anvil.activities.drift.DriftEvents driftEvents;
    @Inject dev.anvil.activities.pipeline.EventTriggers eventTriggers;

    private WorkerFactory factory;
    private dev.anvil.activities.tasklog.TaskLogs taskLogs;
    private ScheduledExecutorService reconciling;
    private RunReconciler reconciler;

    void start(@Observes StartupEvent event) {
        // a bad ANVIL_WORKER_QUEUES or ANVIL_WORKER_MAX_ACTIVITIES stops the process before it touches anything;
        // GPU and TensorRT detection run once, here
        WorkerQueues queues = config.worker().enabled()
                ? WorkerQueues.choose(config.worker().queues(), GpuProbe.system(),
                        dev.anvil.modelkit.compile.tensorrt.TensorRtRuntime::detect) : null;
        if (queues != null) {
            WorkerQueues.checkMaxActivities(config.worker().maxActivities());
        }
        // once per process: Temporal Schedules where the service has them; a bad ANVIL_SCHEDULES_BACKEND stops here
        schedules.choose();
        schema.migrate();
        config.auth().demoTokensFile().ifPresent(this::seedDemoUsers);
        try {
            objects.ensureBucket();
        } catch (RuntimeException e) {
            LOG.warnf("artifact store at %s not reachable yet (%s); uploads fail until it is",
                    config.s3().endpoint(), e.getMessage());
        }
        reconcile();
        scheduleReconciling();
        if (config.worker().enabled()) {
            startWorker(queues);
        }
        try {
            schedules.ensureAll(OperatorRegistry.builtIns());
        } catch (RuntimeException e) {
            LOG.warnf("could not restore pipeline schedules: %s", e.getMessage());
        }
        try {
            // events claimed before a crash or while Temporal was away: their runs start now
            int started = eventTriggers.startPending();
            if (started > 0) {
                LOG.infof("started %d event-triggered runs left pending", started);
            }
        } catch (RuntimeException e) {
            LOG.warnf("could not start pending event-triggered runs: %s", e.getMessage());
        }
    }

    private void reconcile() {
        try {
            if (reconciler == null) {
                reconciler = new RunReconciler(runs, taskRuns, approvals, rollouts, endpoints, audit, stubs,
                        config.temporal().namespace());
            }
            reconciler.reconcile();
        } catch (RuntimeException e) {
            LOG.warnf("could not reconcile runs with Temporal at %s: %s", config.temporal().target(), e.getMessage());
        }
        try {
            // runs that waited for a slot (max_active_runs) whose end nobody reported in time, or whose
            // admission a crash interrupted
            java.util.List<String> admitted = launcher.admitWaiting();
            if (!admitted.isEmpty()) {
                LOG.infof("started runs that waited for a slot: %s", admitted);
            }
        } catch (RuntimeException e) {
            LOG.warnf("could not start runs waiting for a slot: %s", e.getMessage());
        }
    }

    /** Debris of a crash elsewhere (another pod, a worker killed mid-run) is closed within the interval. */
    private void scheduleReconciling() {
        java.time.Duration interval = config.temporal().reconcileInterval();
        if (interval.isZero() || interval.isNegative()) {
            return;
        }
        reconciling = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "anvil-reconciler");
            t.setDaemon(true);
            return t;
        });
        reconciling.scheduleWithFixedDelay(this::reconcile, interval.toMillis(), interval.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void seedDemoUsers(java.nio.file.Path file) {
        try {
            java.util.Map<String, String> seeded = dev.anvil.api.auth.DemoUsers.seed(file, tokens);
            LOG.infof("demo users seeded (tokens in %s): %s", file, String.join(", ",
                    seeded.keySet().stream().map(u -> "demo-" + u).toList()));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot write the demo tokens file " + file + ": " + e.getMessage()
                    + "; point ANVIL_AUTH_DEMO_TOKENS_FILE at a writable place or unset it", e);
        }
    }

    /**
     * One worker per task queue this process polls (ANVIL_WORKER_QUEUES, or anvil-cpu plus anvil-gpu where a GPU
     * is found), each with every activity; workflows only on anvil-cpu. A bad setting stops start-up.
     */
    private void startWorker(WorkerQueues queues) {
        io.temporal.worker.WorkerOptions options = WorkerSettings.workerOptions(config.worker().workflowCacheSize(),
                config.worker().maxActivities());
        Object[] activities = activities();
        factory = WorkerFactory.newInstance(client, WorkerSettings.factoryOptions(config.worker().workflowCacheSize()));
        for (String queue : queues.queues()) {
            Worker worker = factory.newWorker(queue, options);
            if (queue.equals(TaskQueues.CPU)) {
                worker.registerWorkflowImplementationTypes(PipelineWorkflowImpl.class,
                        PipelineScheduleWorkflowImpl.class, ScheduledTickWorkflowImpl.class,
                        dev.anvil.workflows.rollout.CanaryRolloutWorkflowImpl.class,
                        dev.anvil.workflows.webhooks.WebhookDeliveryWorkflowImpl.class);
            }
            worker.registerActivitiesImplementations(activities);
        }
        factory.start();
        LOG.infof("Temporal worker polling %s on %s: %s (up to %d activities at once per queue, workflow cache %d)",
                String.join(", ", queues.queues()), config.temporal().target(), queues.why(),
                config.worker().maxActivities(), config.worker().workflowCacheSize());
    }

    private Object[] activities() {
        OnnxInspector inspector = new OnnxInspector(OrtEnvironment.getEnvironment());
        ArtifactIO artifactIO = new ArtifactIO(objects, artifacts, lineage, json, attestations, datasets);
        // ANVIL_WORKER_COMMANDS and the ANVIL_COMMAND_ENV_<PROFILE>_<VAR> profiles are read from the process
        // environment, as a worker's secrets are (never from Quarkus' config sources, which /q endpoints may show)
        dev.anvil.activities.command.CommandSettings commands =
                dev.anvil.activities.command.CommandSettings.fromEnvironment(System.getenv());
        taskLogs = new dev.anvil.activities.tasklog.TaskLogs(objects);
        Operators operators = new Operators(new NoopOperator(), new SleepOperator(),
                new InspectOperator(artifactIO, objects, inspector),
                new ConvertOperator(artifactIO, new ModelConverter(OrtEnvironment.getEnvironment())),
                new QuantizeOperator(artifactIO, OrtEnvironment.getEnvironment(), java.time.Duration.ofSeconds(10)),
                new dev.anvil.activities.compress.PruneOperator(artifactIO, OrtEnvironment.getEnvironment()),
                new dev.anvil.activities.compress.ClusterOperator(artifactIO, OrtEnvironment.getEnvironment()),
                new dev.anvil.activities.compress.LowRankOperator(artifactIO, OrtEnvironment.getEnvironment()),
                new dev.anvil.activities.compile.CompileOperator(artifactIO),
                new ValidateOperator(artifactIO, registry, OrtEnvironment.getEnvironment()),
                new GateOperator(artifactIO),
                new dev.anvil.activities.command.CommandOperator(artifactIO, commands),
                new dev.anvil.activities.external.ExternalOperator(artifactIO, objects, externalTasks, trainingServices,
                        () -> dev.anvil.api.wiring.ExternalTraining.publicUrl(config),
                        java.net.http.HttpClient.newBuilder().connectTimeout(java.time.Duration.ofSeconds(10)).build()),
                new dev.anvil.activities.train.TrainOperator(artifactIO, OrtEnvironment.getEnvironment()),
                new dev.anvil.activities.train.LabelOperator(artifactIO, OrtEnvironment.getEnvironment()),
                new dev.anvil.activities.compress.CompressOperator(artifactIO, OrtEnvironment.getEnvironment()),
                new dev.anvil.activities.drift.DriftOperator(artifactIO, endpoints, datasets, driftWindows, driftEvents),
                new dev.anvil.activities.edge.PackageOperator(artifactIO, attestationStore))
                .requireMatches(OperatorRegistry.builtIns());
        LOG.infof("command operator %s on this worker (env profiles %s)", commands.enabled() ? "enabled"
                : "disabled (set ANVIL_WORKER_COMMANDS=true to run commands)", commands.profiles().keySet());
        return new Object[] {
                new TaskActivitiesImpl(operators, taskRuns, lineage, json, taskLogs),
                new ScheduleActivitiesImpl(launcher),
                new RunStateActivitiesImpl(runs, launcher::admitWaiting),
                new RolloutActivitiesImpl(endpoints, servingSessions, servingCounts, registry, rollouts, audit, lineage,
                        json, config.gateway().loadWait(), reportsFresh(), admission),
                new ApprovalActivitiesImpl(approvals, taskRuns, audit, submittedDecisions),
                webhookActivities,
                new dev.anvil.activities.rollout.CanaryTaskActivitiesImpl(taskRuns, admission, admission.minInterval(),
                        json, taskLogs)};
    }

    /** A serving process re-touches its reports on every refresh: three refreshes missed, it is gone. */
    private java.time.Duration reportsFresh() {
        java.time.Duration three = config.gateway().refreshInterval().multipliedBy(3);
        return three.compareTo(java.time.Duration.ofSeconds(15)) < 0 ? java.time.Duration.ofSeconds(15) : three;
    }

    void stop(@Observes ShutdownEvent event) throws InterruptedException {
        if (reconciling != null) {
            reconciling.shutdownNow();
        }
        if (factory != null) {
            factory.shutdown();
            factory.awaitTermination(10, TimeUnit.SECONDS);
        }
        if (taskLogs != null) {
            // after the activities ended: their logs were written a last time as each attempt closed its own
            taskLogs.close();
        }
    }
}
