package dev.anvil.workflows.rollout;

import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

public class CanaryRolloutWorkflowImpl implements CanaryRolloutWorkflow {
    static final String STARTING = "starting";
    static final String RUNNING = "running";
    static final String PAUSED = "paused";
    static final String PROMOTING = "promoting";
    static final String PROMOTED = "promoted";
    static final String ROLLED_BACK = "rolled_back";
    static final String ABORTED = "aborted";
    private static final String SYSTEM = "anvil";
    /**
     * Change id: a cancelled rollout aborts (canary removed, traffic back on the stable version) before it ends
     * (version 1). Rollouts cancelled before it simply ended; their histories replay that way.
     */
    static final String ABORT_ON_CANCEL = "abort-on-cancel";

    // Database and gateway writes: short, idempotent, retried with back-off for a few minutes so a
    // PostgreSQL blip does not end a rollout; a bad request (BadRollout) is not retried.
    private final RolloutActivities activities = Workflow.newActivityStub(RolloutActivities.class,
            ActivityOptions.newBuilder()
                    .setStartToCloseTimeout(Duration.ofMinutes(3))
                    .setRetryOptions(RetryOptions.newBuilder()
                            .setInitialInterval(Duration.ofSeconds(1))
                            .setBackoffCoefficient(2)
                            .setMaximumInterval(Duration.ofSeconds(30))
                            .setMaximumAttempts(12)
                            .setDoNotRetry(RolloutActivities.BAD_ROLLOUT)
                            .build())
                    .build());

    private String state = STARTING;
    private int weight;
    private int step;
    private int steps;
    private int extensions;
    private String pausedReason;
    private final List<Analysis> analyses = new ArrayList<>();
    private String command;
    private RolloutControl commandBy;
    private Analysis lastAnalysis;
    /** A promotion or rollback is under way: a cancel arriving now leaves it to finish (or to the reconciler). */
    private boolean ending;

    /**
     * Runs the rollout; a cancel (the pipeline run that started it was cancelled, or someone cancelled this
     * workflow) aborts it as a person's abort would, then ends the workflow cancelled.
     */
    @Override
    public CanaryResult run(CanaryRequest request) {
        try {
            return roll(request);
        } catch (RuntimeException e) {
            if (!CancellationScope.current().isCancelRequested() || STARTING.equals(state) || ending) {
                // not cancelled; or cancelled while it began (the reconciler removes what begin may have set) or
                // while a promotion or rollback it started finishes
                throw e;
            }
            Workflow.newDetachedCancellationScope(() -> abortOnCancel(request)).run();
            throw e;
        }
    }

    private void abortOnCancel(CanaryRequest request) {
        if (Workflow.getVersion(ABORT_ON_CANCEL, Workflow.DEFAULT_VERSION, 1) == Workflow.DEFAULT_VERSION) {
            return;
        }
        String actor = Workflow.getInfo().getParentWorkflowId().map(run -> "pipeline " + run).orElse(SYSTEM);
        String reason = Workflow.getInfo().getParentWorkflowId().isPresent() ? "the pipeline run was cancelled"
                : "the rollout's workflow was cancelled";
        try {
            activities.rollBack(request.rolloutId(), request.endpoint(), ABORTED, lastAnalysis, actor, reason);
        } catch (io.temporal.failure.ActivityFailure e) {
            // the endpoint or the canary is gone: the workflow still ends cancelled, and the reconciler ends the
            // rollout's record as failed with the reason
            return;
        }
        state = ABORTED;
        weight = 0;
    }

    private CanaryResult roll(CanaryRequest request) {
        steps = request.steps().size();
        RolloutStart start = activities.begin(request);
        state = RUNNING;
        Duration interval = Duration.ofSeconds(request.intervalSeconds());
        long stableBaselineP95 = -1;
        Analysis last = null;
        for (step = 0; step < steps; step++) {
            weight = request.steps().get(step);
            activities.setWeight(request.rolloutId(), request.endpoint(), weight, RUNNING, last);
            extensions = 0;
            while (true) {
                EndpointCounts before = activities.readCounts(request.endpoint());
                Workflow.await(interval, () -> command != null || PAUSED.equals(state));
                if (command == null && PAUSED.equals(state)) {
                    holdWhilePaused(request, last);
                    if (command == null) {
                        continue; // resumed: a window with a pause in it is no evidence, measure a fresh one
                    }
                }
                if (command != null) {
                    return obey(request, start, last);
                }
                EndpointCounts after = activities.readCounts(request.endpoint());
                VersionCounts stableWindow = after.of(start.stableVersion()).since(before.of(start.stableVersion()));
                VersionCounts canaryWindow = after.of(start.candidateVersion()).since(before.of(start.candidateVersion()));
                if (stableWindow.requests() > 0) {
                    stableBaselineP95 = stableWindow.p95Micros();
                }
                last = Analysis.evaluate(weight, stableWindow, canaryWindow, request.minRequests(),
                        request.maxErrorRate(), request.maxP95LatencyRatio(), stableBaselineP95)
                        .numbered(analyses.size() + 1, Workflow.currentTimeMillis());
                lastAnalysis = last;
                analyses.add(last);
                if (Analysis.FAIL.equals(last.verdict())) {
                    ending = true;
                    activities.rollBack(request.rolloutId(), request.endpoint(), ROLLED_BACK, last, SYSTEM, last.reason());
                    state = ROLLED_BACK;
                    weight = 0;
                    return result(request, start, last.reason(), SYSTEM);
                }
                if (Analysis.PASS.equals(last.verdict())) {
                    break;
                }
                extensions++;
                if (extensions > request.maxExtensions()) {
                    // never promote on no evidence: hand the decision to a person
                    state = PAUSED;
                    pausedReason = "inconclusive after " + extensions + " windows: " + last.reason()
                            + "; resume to measure again, or promote or abort";
                    holdWhilePaused(request, last);
                    if (command != null) {
                        return obey(request, start, last);
                    }
                    extensions = 0;
                } else {
                    activities.setWeight(request.rolloutId(), request.endpoint(), weight, RUNNING, last);
                }
            }
        }
        state = PROMOTING;
        ending = true;
        activities.promote(request, start, last, SYSTEM, "every step passed");
        state = PROMOTED;
        return result(request, start, "every step passed", SYSTEM);
    }

    /** Records the pause and waits for resume, promote or abort; resuming starts a fresh window. */
    private void holdWhilePaused(CanaryRequest request, Analysis last) {
        activities.setWeight(request.rolloutId(), request.endpoint(), weight, PAUSED, last);
        Workflow.await(() -> command != null || !PAUSED.equals(state));
        if (command == null) {
            pausedReason = null;
            activities.setWeight(request.rolloutId(), request.endpoint(), weight, RUNNING, last);
        }
    }

    private CanaryResult obey(CanaryRequest request, RolloutStart start, Analysis last) {
        String reason = commandBy.reason() == null ? command + " by " + commandBy.actor()
                : commandBy.reason();
        ending = true;
        if (PROMOTED.equals(command)) {
            activities.promote(request, start, last, commandBy.actor(), reason);
            state = PROMOTED;
        } else {
            activities.rollBack(request.rolloutId(), request.endpoint(), ABORTED, last, commandBy.actor(), reason);
            state = ABORTED;
            weight = 0;
        }
        return result(request, start, reason, commandBy.actor());
    }

    private CanaryResult result(CanaryRequest request, RolloutStart start, String reason, String decidedBy) {
        return new CanaryResult(state, request.endpoint(), start.model(), start.stableVersion(),
                start.candidateVersion(), reason, decidedBy, List.copyOf(analyses));
    }

    @Override
    public RolloutStatus status() {
        return new RolloutStatus(command != null && !finished() ? state + " (" + command + " requested)" : state,
                weight, step, steps, extensions, pausedReason, List.copyOf(analyses));
    }

    @Override
    public RolloutStatus pause(RolloutControl control) {
        state = PAUSED;
        pausedReason = "paused by " + control.actor() + (control.reason() == null ? "" : ": " + control.reason());
        return status();
    }

    @Override
    public void validatePause(RolloutControl control) {
        checkActor(control);
        if (!RUNNING.equals(state) || command != null) {
            throw new IllegalStateException("only a running rollout can be paused; this one is " + describe());
        }
    }

    @Override
    public RolloutStatus resume(RolloutControl control) {
        state = RUNNING;
        pausedReason = null; // the answer is the state after the resume (the main loop clears it again, replay-safe)
        return status();
    }

    @Override
    public void validateResume(RolloutControl control) {
        checkActor(control);
        if (!PAUSED.equals(state) || command != null) {
            throw new IllegalStateException("only a paused rollout can be resumed; this one is " + describe());
        }
    }

    @Override
    public RolloutStatus promote(RolloutControl control) {
        command = PROMOTED;
        commandBy = control;
        return status();
    }

    @Override
    public void validatePromote(RolloutControl control) {
        checkStoppable(control, "promoted");
    }

    @Override
    public RolloutStatus abort(RolloutControl control) {
        command = ABORTED;
        commandBy = control;
        return status();
    }

    @Override
    public void validateAbort(RolloutControl control) {
        checkStoppable(control, "aborted");
    }

    private void checkStoppable(RolloutControl control, String what) {
        checkActor(control);
        if (STARTING.equals(state)) {
            throw new IllegalStateException("the rollout is still starting; it can be " + what + " once it runs");
        }
        if (PROMOTING.equals(state)) {
            throw new IllegalStateException("the rollout cannot be " + what + "; every step passed and it is being promoted");
        }
        if (finished() || command != null) {
            throw new IllegalStateException("the rollout cannot be " + what + "; it is " + describe());
        }
    }

    private static void checkActor(RolloutControl control) {
        if (control == null || control.actor() == null || control.actor().isBlank()) {
            throw new IllegalArgumentException("say who is asking: actor is required");
        }
    }

    private boolean finished() {
        return PROMOTED.equals(state) || ROLLED_BACK.equals(state) || ABORTED.equals(state);
    }

    private String describe() {
        return command != null && !finished() ? "already being " + command : state;
    }
}
