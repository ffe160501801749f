package dev.anvil.workflows.pipeline;

import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/** Helpers the pipeline workflow tests share. */
final class RunAssertions {
    private RunAssertions() {}

    /** Each task as "id=status", in plan order. */
    static List<String> statuses(RunState state) {
        return state.tasks().stream().map(t -> t.taskId() + "=" + t.status()).collect(Collectors.toList());
    }

    /** Waits for a condition an activity on another thread makes true; fails after 20 s. */
    static void waitUntil(BooleanSupplier condition) {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 20 s");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
