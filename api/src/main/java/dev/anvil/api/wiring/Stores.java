package dev.anvil.api.wiring;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.pipeline.RunLauncher;
import dev.anvil.api.config.AnvilConfig;
import dev.anvil.db.ApiTokenStore;
import dev.anvil.db.ApprovalStore;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.DatasetStore;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.LineageStore;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.RunAdmissionStore;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.RolloutStore;
import dev.anvil.db.ServingCountsStore;
import dev.anvil.db.ServingSessionsStore;
import dev.anvil.db.RunNoteStore;
import dev.anvil.db.SubmittedDecisionStore;
import dev.anvil.db.TaskRunStore;
import dev.anvil.storage.ObjectStore;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import io.agroal.api.AgroalDataSource;
import io.temporal.client.WorkflowClient;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * Start-up wiring: the stores of the db and storage modules and the run launcher, as CDI beans over the
 * pooled data source. Everything else injects them; nothing builds its own.
 */
@ApplicationScoped
public class Stores {

    @Produces
    @Singleton
    ArtifactStore artifacts(AgroalDataSource ds) {
        return new ArtifactStore(ds);
    }

    @Produces
    @Singleton
    PipelineRunStore runs(AgroalDataSource ds) {
        return new PipelineRunStore(ds);
    }

    @Produces
    @Singleton
    TaskRunStore taskRuns(AgroalDataSource ds) {
        return new TaskRunStore(ds);
    }

    @Produces
    @Singleton
    RunNoteStore runNotes(AgroalDataSource ds) {
        return new RunNoteStore(ds);
    }

    @Produces
    @Singleton
    LineageStore lineage(AgroalDataSource ds) {
        return new LineageStore(ds);
    }

    @Produces
    @Singleton
    DatasetStore datasets(AgroalDataSource ds) {
        return new DatasetStore(ds);
    }

    @Produces
    @Singleton
    PipelineStore pipelines(AgroalDataSource ds) {
        return new PipelineStore(ds);
    }

    @Produces
    @Singleton
    AuditLogStore audit(AgroalDataSource ds) {
        return new AuditLogStore(ds);
    }

    @Produces
    @Singleton
    ApiTokenStore tokens(AgroalDataSource ds) {
        return new ApiTokenStore(ds);
    }

    @Produces
    @Singleton
    ApprovalStore approvals(AgroalDataSource ds) {
        return new ApprovalStore(ds);
    }

    @Produces
    @Singleton
    SubmittedDecisionStore submittedDecisions(AgroalDataSource ds) {
        return new SubmittedDecisionStore(ds);
    }

    @Produces
    @Singleton
    ModelRegistryStore registry(AgroalDataSource ds) {
        return new ModelRegistryStore(ds);
    }

    @Produces
    @Singleton
    EndpointStore endpoints(AgroalDataSource ds) {
        return new EndpointStore(ds);
    }

    @Produces
    @Singleton
    RolloutStore rollouts(AgroalDataSource ds) {
        return new RolloutStore(ds);
    }

    @Produces
    @Singleton
    ServingCountsStore servingCounts(AgroalDataSource ds) {
        return new ServingCountsStore(ds);
    }

    @Produces
    @Singleton
    ServingSessionsStore servingSessions(AgroalDataSource ds) {
        return new ServingSessionsStore(ds);
    }

    @Produces
    @Singleton
    RunAdmissionStore admissions(AgroalDataSource ds) {
        return new RunAdmissionStore(ds);
    }

    @Produces
    @Singleton
    RunLauncher runLauncher(PipelineStore pipelines, PipelineRunStore runs, RunAdmissionStore admissions,
                            TaskRunStore taskRuns, WorkflowClient client, ObjectMapper json,
                            dev.anvil.api.config.AnvilConfig config) {
        return new RunLauncher(pipelines, runs, admissions, taskRuns, client, OperatorRegistry.builtIns(), json,
                config.scheduleToStartTimeout());
    }

    @Produces
    @Singleton
    ObjectStore objects(AnvilConfig config) {
        AnvilConfig.S3 s3 = config.s3();
        return ObjectStore.connect(s3.endpoint(), s3.accessKey(), s3.secretKey(), s3.bucket());
    }

    void close(@Disposes ObjectStore objects) {
        objects.close();
    }
}
