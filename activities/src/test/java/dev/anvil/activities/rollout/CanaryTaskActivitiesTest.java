package dev.anvil.activities.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.tasklog.TaskLogs;
import dev.anvil.db.TaskRun;
import dev.anvil.db.TaskRunStore;
import dev.anvil.workflows.pipeline.TaskActivities;
import dev.anvil.workflows.pipeline.TaskInvocation;
import dev.anvil.workflows.rollout.CanaryRequest;
import dev.anvil.workflows.rollout.PreparedCanary;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The canary task's activities against PostgreSQL: the attempt's task run, the rollout id the child workflow
 * gets, and the refusals that end the task before any rollout starts (a spec that gathers no evidence, a
 * candidate the admission refuses, a pipeline that tries to break glass).
 */
class CanaryTaskActivitiesTest {
    private static final String CANDIDATE = "c".repeat(64);

    private TaskRunStore taskRuns;
    private LocalStackStores stores;
    private CanaryTaskActivitiesImpl activities;
    private TaskLogs logs;
    private final List<String> admitted = new ArrayList<>();
    private RuntimeException refusal;

    @BeforeEach
    void setUp() throws Exception {
        stores = LocalStackStores.open("canary_task", "anvil-canary-task-test");
        taskRuns = stores.taskRuns();
        logs = new TaskLogs(stores.objects());
        activities = new CanaryTaskActivitiesImpl(taskRuns, (request, breakGlass) -> {
            if (refusal != null) {
                throw refusal;
            }
            admitted.add(request.rolloutId() + (breakGlass ? " (glass broken)" : ""));
        }, Duration.ofSeconds(30), new ObjectMapper(), logs);
    }

    @AfterEach
    void closeLogs() {
        logs.close();
    }

    @Test
    void anAdmittedCanaryOpensItsAttemptAndItsEndIsRecordedWithTheOutputs() {
        String run = newRun();
        PreparedCanary prepared = activities.prepare(invocation(run, spec(), 0), 1);

        CanaryRequest request = prepared.request();
        assertThat(request.rolloutId()).isEqualTo("rollout-" + run + "-rollout");
        assertThat(request.taskRunId()).isEqualTo(prepared.taskRunId());
        assertThat(request.actor()).isEqualTo("pipeline " + run);
        assertThat(request.steps()).containsExactly(10, 100);
        assertThat(admitted).containsExactly(request.rolloutId());
        TaskRun open = taskRuns.find(prepared.taskRunId()).orElseThrow();
        assertThat(open.status()).isEqualTo("running");
        assertThat(open.attempt()).isEqualTo(1);
        assertThat(open.operator()).isEqualTo("canary");
        assertThat(attemptLog(run, 1)).contains("rollout " + request.rolloutId() + " admitted: candidate " + CANDIDATE
                + " on endpoint digits, steps [10, 100] %, 60 s windows")
                .contains("steered with /api/rollouts/" + request.rolloutId());

        activities.finish(prepared.taskRunId(), "success", Map.of("rollout", request.rolloutId(), "state", "promoted"), null);
        TaskRun ended = taskRuns.find(prepared.taskRunId()).orElseThrow();
        assertThat(ended.status()).isEqualTo("success");
        assertThat(ended.metricsJson()).contains("\"state\": \"promoted\"");
    }

    @Test
    void aRetriedRunPreparesANewRolloutAfterTheEarlierAttempts() {
        String run = newRun();
        PreparedCanary prepared = activities.prepare(invocation(run, spec(), 1), 1);

        assertThat(prepared.request().rolloutId()).isEqualTo("rollout-" + run + "-rollout-2");
        assertThat(prepared.attempt()).isEqualTo(2);
        assertThat(taskRuns.find(prepared.taskRunId()).orElseThrow().attempt()).isEqualTo(2);
    }

    @Test
    void aSpecThatGathersNoEvidenceFailsTheAttemptNamingTheFieldWithoutAskingAdmission() {
        String run = newRun();
        Map<String, Object> spec = spec();
        spec.put("steps", List.of(50, 80));

        ApplicationFailure failure = refused(run, spec);
        assertThat(failure.getOriginalMessage()).startsWith("canary: steps [50, 80] must end at 100");
        assertThat(admitted).isEmpty();
        assertAttemptFailed(run, failure.getOriginalMessage());
    }

    @Test
    void aCandidateTheAdmissionRefusesFailsTheAttemptSayingWhatIsMissing() {
        String run = newRun();
        refusal = new RolloutRefused(403, null, "candidate " + CANDIDATE + " may not go to production: it has no"
                + " signed attestation");

        ApplicationFailure failure = refused(run, spec());
        assertThat(failure.getOriginalMessage()).isEqualTo("canary: candidate " + CANDIDATE
                + " may not go to production: it has no signed attestation");
        assertAttemptFailed(run, failure.getOriginalMessage());
        assertThat(attemptLog(run, 1)).contains("\"level\":\"error\"").contains("it has no signed attestation")
                .doesNotContain("admitted");
    }

    @Test
    void aPipelineCannotBreakGlass() {
        String run = newRun();
        Map<String, Object> spec = spec();
        spec.put("break_glass", Map.of("reason", "trust me"));

        ApplicationFailure failure = refused(run, spec);
        assertThat(failure.getOriginalMessage()).contains("break_glass is an admin's call")
                .contains("a pipeline cannot break glass");
        assertThat(admitted).isEmpty();
        assertAttemptFailed(run, failure.getOriginalMessage());
    }

    @Test
    void anEndRecordedAfterTheRunsCancelNeverOverwritesIt() {
        String run = newRun();
        PreparedCanary prepared = activities.prepare(invocation(run, spec(), 0), 1);
        taskRuns.finish(prepared.taskRunId(), "failed", null, "cancelled with the run");

        activities.finish(prepared.taskRunId(), "success", Map.of("state", "promoted"), null);

        TaskRun row = taskRuns.find(prepared.taskRunId()).orElseThrow();
        assertThat(row.status()).isEqualTo("failed");
        assertThat(row.error()).isEqualTo("cancelled with the run");
    }

    private ApplicationFailure refused(String run, Map<String, Object> spec) {
        Throwable thrown = catchThrowable(() -> activities.prepare(invocation(run, spec, 0), 1));
        assertThat(thrown).isInstanceOf(ApplicationFailure.class);
        ApplicationFailure failure = (ApplicationFailure) thrown;
        assertThat(failure.getType()).isEqualTo(TaskActivities.INVALID_INPUT);
        assertThat(failure.isNonRetryable()).isTrue();
        return failure;
    }

    private String attemptLog(String run, int attempt) {
        try {
            return new String(stores.objects().readLog(TaskLogs.name(run, "rollout", attempt), 0).orElseThrow().bytes(),
                    StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void assertAttemptFailed(String run, String error) {
        assertThat(taskRuns.listByRun(run)).singleElement().satisfies(t -> {
            assertThat(t.status()).isEqualTo("failed");
            assertThat(t.error()).isEqualTo(error);
        });
    }

    private String newRun() {
        String run = "run-" + UUID.randomUUID();
        stores.runs().create(run, "rollout", "{}", "alice");
        return run;
    }

    private static TaskInvocation invocation(String run, Map<String, Object> with, int previousAttempts) {
        return new TaskInvocation(run, "rollout", "canary", with, 3, previousAttempts, false);
    }

    private static Map<String, Object> spec() {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("endpoint", "digits");
        spec.put("model", CANDIDATE);
        spec.put("steps", List.of(10, 100));
        spec.put("interval", "1m");
        spec.put("min_requests", 5);
        return spec;
    }
}
