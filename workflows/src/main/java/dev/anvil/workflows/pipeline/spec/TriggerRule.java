package dev.anvil.workflows.pipeline.spec;

import dev.anvil.workflows.pipeline.TaskState;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** When a task may start, given its upstream tasks' states; the names and meanings are Airflow's. */
public enum TriggerRule {
    /** Every upstream succeeded (the default). */
    ALL_SUCCESS,
    /** Every upstream failed or was marked upstream_failed. */
    ALL_FAILED,
    /** Every upstream finished, whatever its state. */
    ALL_DONE,
    /** At least one upstream succeeded; the task need not wait for the rest. */
    ONE_SUCCESS,
    /** At least one upstream failed; the task need not wait for the rest. */
    ONE_FAILED,
    /** No upstream failed or is upstream_failed: all succeeded or were skipped. */
    NONE_FAILED,
    /** No upstream was skipped: all succeeded, failed or are upstream_failed. */
    NONE_SKIPPED;

    /** The spelling used in specs, e.g. {@code all_success}. */
    public String specName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<TriggerRule> fromSpecName(String name) {
        return Arrays.stream(values()).filter(r -> r.specName().equals(name)).findFirst();
    }

    public static List<String> specNames() {
        return Arrays.stream(values()).map(TriggerRule::specName).toList();
    }

    /** What to do with a task whose upstream tasks are in {@code upstream} states. */
    public enum Decision { WAIT, RUN, SKIP, UPSTREAM_FAILED }

    /**
     * Whether a task with this rule runs now, waits, or ends without running, given its upstream
     * tasks' states (Airflow task states).
     */
    public Decision decide(Collection<String> upstream) {
        if (upstream.isEmpty()) {
            return Decision.RUN;
        }
        int success = 0, failed = 0, skipped = 0, done = 0;
        for (String s : upstream) {
            switch (s) {
                case TaskState.SUCCESS -> { success++; done++; }
                case TaskState.FAILED, TaskState.UPSTREAM_FAILED -> { failed++; done++; }
                case TaskState.SKIPPED -> { skipped++; done++; }
                default -> { }
            }
        }
        boolean allDone = done == upstream.size();
        return switch (this) {
            case ALL_SUCCESS -> failed > 0 ? Decision.UPSTREAM_FAILED
                    : skipped > 0 ? Decision.SKIP
                    : allDone ? Decision.RUN : Decision.WAIT;
            case ALL_FAILED -> success > 0 || skipped > 0 ? Decision.SKIP
                    : allDone ? Decision.RUN : Decision.WAIT;
            case ALL_DONE -> allDone ? Decision.RUN : Decision.WAIT;
            case ONE_SUCCESS -> success > 0 ? Decision.RUN
                    : !allDone ? Decision.WAIT
                    : skipped == upstream.size() ? Decision.SKIP : Decision.UPSTREAM_FAILED;
            case ONE_FAILED -> failed > 0 ? Decision.RUN
                    : allDone ? Decision.SKIP : Decision.WAIT;
            case NONE_FAILED -> failed > 0 ? Decision.UPSTREAM_FAILED
                    : allDone ? Decision.RUN : Decision.WAIT;
            case NONE_SKIPPED -> skipped > 0 ? Decision.SKIP
                    : allDone ? Decision.RUN : Decision.WAIT;
        };
    }
}
