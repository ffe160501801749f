package dev.anvil.activities.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.pipeline.RunLauncher;
import dev.anvil.activities.pipeline.ScheduleActivitiesImpl;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineStore;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs a schedule starts have a person as requester, never a name nobody holds: the four-eyes rule
 * compares reviewers against it. A tick of the schedule is requested by who registered the version it
 * runs; a backfill or trigger by who asked; without either, the tick does not start.
 */
class ScheduledRunRequesterTest {
    private static final String SPEC = """
            pipeline: nightly
            schedule: "@daily"
            tasks:
              approve: {operator: approval}
            """;

    private LocalStackStores stores;
    private PipelineStore pipelines;
    private TestWorkflowEnvironment temporal;
    private ScheduleActivitiesImpl activities;

    @BeforeEach
    void open() throws Exception {
        stores = LocalStackStores.open("requester", "requester-" + System.nanoTime());
        pipelines = new PipelineStore(stores.db());
        // only the client is used: the runs are recorded and their workflows queued, none runs
        temporal = TestWorkflowEnvironment.newInstance();
        activities = new ScheduleActivitiesImpl(new RunLauncher(pipelines, stores.runs(), new dev.anvil.db.RunAdmissionStore(stores.db()), stores.taskRuns(),
                temporal.getWorkflowClient(), OperatorRegistry.builtIns(), new ObjectMapper()));
    }

    @AfterEach
    void close() {
        temporal.close();
    }

    @Test
    void aScheduledTickIsRequestedByWhoRegisteredTheVersion() {
        pipelines.register("nightly", SPEC, "Alice");

        String run = activities.startScheduledRun("nightly", "2026-01-01T00:00:00Z", null);

        assertThat(stores.runs().find(run)).get().extracting(PipelineRun::submittedBy).isEqualTo("Alice");
    }

    @Test
    void aBackfilledTickIsRequestedByWhoAskedForIt() {
        pipelines.register("nightly", SPEC, "Alice");

        String run = activities.startScheduledRun("nightly", "2026-01-02T00:00:00Z", "bo");

        assertThat(stores.runs().find(run)).get().extracting(PipelineRun::submittedBy).isEqualTo("bo");
    }

    @Test
    void aTickWithoutAKnownRequesterDoesNotStart() throws Exception {
        pipelines.register("nightly", SPEC, "Alice");
        try (var c = stores.db().getConnection(); var s = c.createStatement()) {
            s.execute("UPDATE pipeline_versions SET registered_by = NULL"); // registered before the column
        }

        assertThatThrownBy(() -> activities.startScheduledRun("nightly", "2026-01-03T00:00:00Z", null))
                .isInstanceOf(ApplicationFailure.class)
                .hasMessageContaining("has no recorded registrant")
                .hasMessageContaining("PUT /api/pipelines/nightly")
                .satisfies(e -> assertThat(((ApplicationFailure) e).isNonRetryable()).isTrue());
        assertThat(stores.runs().list("nightly", null, 10, 0)).isEmpty();
    }
}
