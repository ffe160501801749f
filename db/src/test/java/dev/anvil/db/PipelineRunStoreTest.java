package dev.anvil.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PipelineRunStoreTest {

    private final PipelineRunStore runs = new PipelineRunStore(TestPostgres.migratedDatabase());

    @Test
    void createsAQueuedRunAndFindsIt() {
        PipelineRun run = runs.create("run-1", "quantize-resnet", "{\"bits\": 8}", "alice");

        assertThat(run.status()).isEqualTo("queued");
        assertThat(run.paramsJson()).isEqualTo("{\"bits\": 8}");
        assertThat(run.createdAt()).isNotNull();
        assertThat(run.startedAt()).isNull();
        assertThat(runs.find("run-1")).contains(run);
        assertThat(runs.find("missing")).isEmpty();
    }

    @Test
    void createIsIdempotentAndKeepsTheFirstRow() {
        PipelineRun first = runs.create("run-1", "p", "{}", "alice");
        PipelineRun again = runs.create("run-1", "p", "{\"other\": true}", "bob");

        assertThat(again).isEqualTo(first);
        assertThat(runs.list(null, 10)).hasSize(1);
    }

    @Test
    void statusChangesStampStartAndFinishAndFinishedRunsStayFinished() {
        runs.create("run-1", "p", null, "alice");

        PipelineRun running = runs.updateStatus("run-1", "running");
        assertThat(running.startedAt()).isNotNull();
        assertThat(running.finishedAt()).isNull();

        PipelineRun done = runs.updateStatus("run-1", "success");
        assertThat(done.finishedAt()).isNotNull();
        assertThat(runs.updateStatus("run-1", "success")).isEqualTo(done);

        assertThatThrownBy(() -> runs.updateStatus("run-1", "running"))
                .isInstanceOf(DataAccessException.class)
                .hasMessage("pipeline_runs update status: run 'run-1' is already success and cannot become running;"
                        + " finished runs are final");
    }

    @Test
    void listsNewestFirstWithOptionalStatusFilterAndLimit() {
        runs.create("a", "p", null, "u");
        runs.create("b", "p", null, "u");
        runs.create("c", "p", null, "u");
        runs.updateStatus("b", "running");

        assertThat(runs.list(null, 10)).extracting(PipelineRun::id).containsExactly("c", "b", "a");
        assertThat(runs.list(null, 2)).extracting(PipelineRun::id).containsExactly("c", "b");
        assertThat(runs.list("queued", 10)).extracting(PipelineRun::id).containsExactly("c", "a");
        assertThat(runs.listByStatus("running")).extracting(PipelineRun::id).containsExactly("b");
    }

    @Test
    void markFailedKeepsTheReasonForReconciliation() {
        runs.create("orphan", "p", null, "u");
        runs.updateStatus("orphan", "running");

        PipelineRun failed = runs.markFailed("orphan", "workflow not found in Temporal after restart");

        assertThat(failed.status()).isEqualTo("failed");
        assertThat(failed.error()).isEqualTo("workflow not found in Temporal after restart");
        assertThat(failed.finishedAt()).isNotNull();
        assertThat(runs.listByStatus("running")).isEmpty();
    }

    @Test
    void badStatusAndUnknownRunGetClearMessages() {
        runs.create("run-1", "p", null, "u");

        assertThatThrownBy(() -> runs.updateStatus("run-1", "done"))
                .isInstanceOf(DataAccessException.class)
                .hasMessage("pipeline_runs update status: status 'done' is not valid,"
                        + " expected one of [queued, running, success, failed, cancelled]")
                .matches(e -> ((DataAccessException) e).isBadInput());
        assertThatThrownBy(() -> runs.markFailed("nope", "x"))
                .hasMessage("pipeline_runs mark failed: no pipeline run with id 'nope'");
    }

    @Test
    void invalidParamsJsonIsReportedAsBadInput() {
        assertThatThrownBy(() -> runs.create("run-1", "p", "{not json", "u"))
                .isInstanceOf(DataAccessException.class)
                .hasMessageStartingWith("pipeline_runs create failed: ")
                .hasMessageContaining("json")
                .matches(e -> ((DataAccessException) e).isBadInput());
    }
}
