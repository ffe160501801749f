package dev.anvil.workflows.pipeline;

import java.util.Collection;
import java.util.Locale;

/**
 * Airflow's trigger rules: given the states of a task's upstream tasks, whether it runs now, waits,
 * or ends without running (skipped or upstream_failed).
 */
public enum TriggerRule {
    ALL_SUCCESS, ALL_FAILED, ALL_DONE, ONE_SUCCESS, ONE_FAILED, NONE_FAILED, NONE_SKIPPED;

    /** What to do with a task whose upstream tasks are in {@code upstream} states. */
    public enum Decision { WAIT, RUN, SKIP, UPSTREAM_FAILED }

    public static TriggerRule of(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }

    public String specName() {
        return name().toLowerCase(Locale.ROOT);
    }

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
