package dev.anvil.workflows.pipeline;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/** Helpers the pipeline workflow tests share. */
final class RunAssertions {
    /** How long a test waits for an activity on another thread to get somewhere; generous for a busy machine. */
    static final Duration ACTIVITY_WAIT = Duration.ofSeconds(20);

    private RunAssertions() {}

    /** Each task as "id=status", in plan order. */
    static List<String> statuses(RunState state) {
        return state.tasks().stream().map(t -> t.taskId() + "=" + t.status()).collect(Collectors.toList());
    }
}
