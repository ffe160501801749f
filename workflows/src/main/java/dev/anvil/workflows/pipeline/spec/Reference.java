package dev.anvil.workflows.pipeline.spec;

import java.util.Objects;

/**
 * One {@code ${...}} reference in a task's {@code with}: {@code ${params.NAME}},
 * {@code ${tasks.TASK.outputs.NAME}} or {@code ${run.id}} / {@code ${run.logical_date}}.
 * {@code task} is empty unless the kind is {@link Kind#TASK_OUTPUT}.
 */
public record Reference(Kind kind, String task, String name) {
    public enum Kind { PARAM, TASK_OUTPUT, RUN }

    public Reference {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(name, "name");
    }

    /** The reference as written, e.g. {@code ${tasks.inspect.outputs.model}}. */
    public String text() {
        return switch (kind) {
            case PARAM -> "${params." + name + "}";
            case TASK_OUTPUT -> "${tasks." + task + ".outputs." + name + "}";
            case RUN -> "${run." + name + "}";
        };
    }
}
