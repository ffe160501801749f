package dev.anvil.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class TaskRunStoreTest {

    private final DataSource db = TestPostgres.migratedDatabase();
    private final TaskRunStore tasks = new TaskRunStore(db);

    TaskRunStoreTest() {
        new PipelineRunStore(db).create("run-1", "p", null, "u");
    }

    @Test
    void startsAndFinishesAnAttempt() {
        long id = tasks.start("run-1", "quantize", 1, "QuantizeOperator", "{\"bits\": 8}");

        TaskRun started = tasks.find(id).orElseThrow();
        assertThat(started.status()).isEqualTo("running");
        assertThat(started.parametersJson()).isEqualTo("{\"bits\": 8}");
        assertThat(started.startedAt()).isNotNull();

        TaskRun finished = tasks.finish(id, "success", "{\"top1\": 0.76}", null);
        assertThat(finished.status()).isEqualTo("success");
        assertThat(finished.metricsJson()).isEqualTo("{\"top1\": 0.76}");
        assertThat(finished.finishedAt()).isNotNull();
    }

    @Test
    void startingTheSameAttemptTwiceReturnsTheSameIdAndOneRow() {
        long first = tasks.start("run-1", "quantize", 1, "QuantizeOperator", "{}");
        long again = tasks.start("run-1", "quantize", 1, "QuantizeOperator", "{}");
        long retry = tasks.start("run-1", "quantize", 2, "QuantizeOperator", "{}");

        assertThat(again).isEqualTo(first);
        assertThat(retry).isNotEqualTo(first);
        assertThat(tasks.listByRun("run-1")).extracting(TaskRun::attempt).containsExactly(1, 2);
    }

    @Test
    void aLaterAttemptClosesAnOpenEarlierOneAndAStaleFinishOfItChangesNothing() {
        long first = tasks.start("run-1", "train", 1, "TrainOperator", "{}");
        long second = tasks.start("run-1", "train", 2, "TrainOperator", "{}");

        TaskRun closed = tasks.find(first).orElseThrow();
        assertThat(closed.status()).isEqualTo("up_for_retry");
        assertThat(closed.error()).startsWith("attempt 2 took over");
        // the first attempt's worker comes back and reports: the record stays as the takeover left it
        TaskRun stale = tasks.finish(first, "success", "{\"loss\": 0.1}", null);
        assertThat(stale.status()).isEqualTo("up_for_retry");
        assertThat(stale.metricsJson()).isNull();
        assertThat(tasks.finish(second, "success", "{\"loss\": 0.2}", null).metricsJson()).isEqualTo("{\"loss\": 0.2}");
        assertThatThrownBy(() -> tasks.start("no-such-run", "train", 2, "TrainOperator", null))
                .hasMessageContaining("no pipeline run with id 'no-such-run'");
    }

    @Test
    void finishingTwiceKeepsTheFirstFinishTime() {
        long id = tasks.start("run-1", "t", 1, "Op", null);
        TaskRun first = tasks.finish(id, "failed", null, "boom");
        TaskRun again = tasks.finish(id, "failed", null, "boom");

        assertThat(again.finishedAt()).isEqualTo(first.finishedAt());
        assertThat(again.error()).isEqualTo("boom");
    }

    @Test
    void badInputGetsClearMessages() {
        long id = tasks.start("run-1", "t", 1, "Op", null);

        assertThatThrownBy(() -> tasks.finish(id, "exploded", null, null))
                .isInstanceOf(DataAccessException.class)
                .hasMessage("task_runs finish: status 'exploded' is not valid, expected one of"
                        + " [success, failed, up_for_retry, upstream_failed, skipped]");
        assertThatThrownBy(() -> tasks.finish(9999, "success", null, null))
                .hasMessage("task_runs finish: no task run with id 9999");
        assertThatThrownBy(() -> tasks.start("no-such-run", "t", 1, "Op", null))
                .hasMessage("task_runs start: no pipeline run with id 'no-such-run';"
                        + " create the run in pipeline_runs before its tasks");
        assertThatThrownBy(() -> tasks.start("run-1", "t", 0, "Op", null))
                .hasMessage("task_runs start: attempt 0 must be at least 1");
    }
}
