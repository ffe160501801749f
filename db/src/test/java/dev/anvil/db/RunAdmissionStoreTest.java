package dev.anvil.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class RunAdmissionStoreTest {

    private final DataSource db = TestPostgres.migratedDatabase();
    private final PipelineRunStore runs = new PipelineRunStore(db);
    private final RunAdmissionStore admissions = new RunAdmissionStore(db);

    private RunAdmissionStore.Admission create(String id, int limit) {
        return admissions.create(id, "retrain", 1, "{}", "alice", limit, null, true);
    }

    @Test
    void aRunBeyondTheLimitWaitsAndIsAdmittedWhenASlotFrees() {
        assertThat(create("r1", 1).admitted()).isTrue();
        RunAdmissionStore.Admission second = create("r2", 1);

        assertThat(second.admitted()).isFalse();
        assertThat(second.active()).isEqualTo(1);
        assertThat(second.run().status()).isEqualTo("queued");
        assertThat(second.waiting().maxActiveRuns()).isEqualTo(1);
        assertThat(admissions.pipelinesWithWaiting()).containsExactly("retrain");
        assertThat(admissions.admit("retrain", 1)).isEmpty(); // r1 still holds the slot

        runs.updateStatus("r1", "running");
        assertThat(admissions.admit("retrain", 1)).isEmpty(); // running holds it too
        runs.updateStatus("r1", "success");

        List<RunAdmissionStore.Waiting> admitted = admissions.admit("retrain", 1);
        assertThat(admitted).extracting(RunAdmissionStore.Waiting::runId).containsExactly("r2");
        assertThat(admitted.get(0).admittedAt()).isNotNull();
        assertThat(admissions.admittedNotStarted()).extracting(RunAdmissionStore.Waiting::runId).containsExactly("r2");
        assertThat(admissions.active("retrain")).isEqualTo(1);

        admissions.started("r2");
        assertThat(admissions.find("r2")).isEmpty();
        assertThat(admissions.admittedNotStarted()).isEmpty();
        assertThat(admissions.pipelinesWithWaiting()).isEmpty();
    }

    @Test
    void waitingRunsAreAdmittedOldestFirstAndANewcomerDoesNotJumpTheQueue() throws Exception {
        create("r1", 1);
        create("r2", 1);
        Thread.sleep(5); // distinct queued_at
        create("r3", 1);
        runs.updateStatus("r1", "failed");

        // a slot is free, but r2 and r3 waited first
        assertThat(create("r4", 1).admitted()).isFalse();
        assertThat(admissions.admit("retrain", 1)).extracting(RunAdmissionStore.Waiting::runId).containsExactly("r2");
        // a raised limit (the newest spec) lets more through
        assertThat(admissions.admit("retrain", 3)).extracting(RunAdmissionStore.Waiting::runId).containsExactly("r3", "r4");
    }

    @Test
    void noLimitAdmitsEveryWaitingRun() {
        create("r1", 1);
        create("r2", 1);
        create("r3", 1);

        assertThat(admissions.admit("retrain", null)).extracting(RunAdmissionStore.Waiting::runId)
                .containsExactly("r2", "r3");
    }

    @Test
    void createIsIdempotentAndKeepsTheFirstDecision() {
        create("r1", 1);
        create("r2", 1);

        assertThat(create("r1", 1).admitted()).isTrue();
        RunAdmissionStore.Admission again = create("r2", 1);
        assertThat(again.admitted()).isFalse();
        assertThat(runs.list("retrain", null, 10, 0)).hasSize(2);
    }

    @Test
    void otherPipelinesDoNotTakeTheSlots() {
        admissions.create("a1", "other", 1, "{}", "alice", 1, null, true);

        assertThat(create("r1", 1).admitted()).isTrue();
    }

    @Test
    void aWaitingRunCancelsWithoutAWorkflowAndAnActiveOneDoesNot() {
        create("r1", 1);
        create("r2", 1);

        assertThat(admissions.cancelWaiting("r1")).isFalse();
        assertThat(admissions.cancelWaiting("r2")).isTrue();

        PipelineRun cancelled = runs.find("r2").orElseThrow();
        assertThat(cancelled.status()).isEqualTo("cancelled");
        assertThat(cancelled.finishedAt()).isNotNull();
        assertThat(cancelled.error()).contains("max_active_runs");
        assertThat(admissions.find("r2")).isEmpty();
        assertThat(admissions.cancelWaiting("missing")).isFalse();
    }

    @Test
    void startsAtOnceTakeNoMoreSlotsThanTheLimit() throws Exception {
        int starts = 8;
        int limit = 2;
        ExecutorService pool = Executors.newFixedThreadPool(starts);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<RunAdmissionStore.Admission>> results = new ArrayList<>();
            for (int i = 0; i < starts; i++) {
                String id = "race-" + i;
                Callable<RunAdmissionStore.Admission> start = () -> {
                    go.await();
                    return create(id, limit);
                };
                results.add(pool.submit(start));
            }
            go.countDown();
            int admitted = 0;
            for (Future<RunAdmissionStore.Admission> f : results) {
                admitted += f.get().admitted() ? 1 : 0;
            }
            assertThat(admitted).isEqualTo(limit);
        } finally {
            pool.shutdownNow();
        }
        assertThat(admissions.active("retrain")).isEqualTo(limit);
        assertThat(runs.list("retrain", "queued", 20, 0)).hasSize(starts);
    }

    @Test
    void badLimitsAreRefused() {
        assertThatThrownBy(() -> create("r1", 0))
                .isInstanceOf(DataAccessException.class)
                .hasMessage("pipeline_run_waits create: max_active_runs 0 must be at least 1");
        assertThatThrownBy(() -> admissions.admit("retrain", -1))
                .isInstanceOf(DataAccessException.class)
                .hasMessage("pipeline_run_waits admit: max_active_runs -1 must be at least 1");
        assertThat(runs.find("r1")).isEmpty();
    }
}
