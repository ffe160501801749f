package dev.anvil.activities.operators;

/**
 * The attempt's own log: timestamped lines an operator writes as it works, kept in the artifact store
 * per run, task and try and served while the task runs ({@code GET /api/runs/{id}/tasks/{task}/logs}).
 * Writing never fails the task: a log that cannot be stored is a warning on the worker, not a fault.
 */
public interface TaskLog {
    /** A log that keeps nothing, for contexts without a store (tests, inspect). */
    TaskLog DISCARD = (level, source, message) -> { };

    /**
     * One line. {@code level} is {@code info}, {@code warning} or {@code error}; {@code source} says who wrote
     * it ({@code anvil} for the platform's own lines, {@code stdout}/{@code stderr} for a process's output).
     */
    void line(String level, String source, String message);

    default void info(String message) {
        line("info", "anvil", message);
    }

    default void warning(String message) {
        line("warning", "anvil", message);
    }

    default void error(String message) {
        line("error", "anvil", message);
    }
}
