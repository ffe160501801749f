package dev.anvil.workflows.pipeline.spec;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/** Checks every {@code ${...}} reference in one task's {@code with}, reporting at the value's path. */
final class ReferenceCheck {
    private final PipelineSpec spec;
    private final TaskSpec task;
    private final Set<String> runtimeParams;
    /** Lazy: most tasks read no other task's outputs, and closures cost O(tasks) each. */
    private final Supplier<Set<String>> upstreamClosure;
    private final List<SpecError> errors;

    ReferenceCheck(PipelineSpec spec, TaskSpec task, Set<String> runtimeParams,
            Supplier<Set<String>> upstreamClosure, List<SpecError> errors) {
        this.spec = spec;
        this.task = task;
        this.runtimeParams = runtimeParams;
        this.upstreamClosure = upstreamClosure;
        this.errors = errors;
    }

    void walk(Object value, String path) {
        if (value instanceof Map<?, ?> m) {
            m.forEach((k, v) -> walk(v, path + "." + k));
        } else if (value instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                walk(l.get(i), path + "[" + i + "]");
            }
        } else if (value instanceof String s && s.contains("${")) {
            References.Scan scan = References.scan(s);
            scan.problems().forEach(p -> errors.add(new SpecError(path, p)));
            scan.references().forEach(r -> check(r, path));
        }
    }

    private void check(Reference ref, String path) {
        switch (ref.kind()) {
            case PARAM -> {
                if (!spec.params().containsKey(ref.name()) && !runtimeParams.contains(ref.name())) {
                    error(path, "unknown param '" + ref.name() + "' in " + ref.text() + "; declare it under params"
                            + declared() + " or pass it when starting the run");
                }
            }
            case TASK_OUTPUT -> checkTaskOutput(ref, path);
            case RUN -> { } // the reference parser admits only the run fields that exist
        }
    }

    private void checkTaskOutput(Reference ref, String path) {
        if (ref.task().equals(task.id())) {
            error(path, ref.text() + ": a task cannot read its own outputs; reference an upstream task");
        } else if (!spec.tasks().containsKey(ref.task())) {
            error(path, "unknown task '" + ref.task() + "' in " + ref.text() + "; tasks in this pipeline: "
                    + String.join(", ", spec.tasks().keySet()));
        } else if (!upstreamClosure.get().contains(ref.task())) {
            error(path, ref.text() + ": task '" + ref.task() + "' is not upstream of '" + task.id()
                    + "', so its outputs may not exist yet; add '" + ref.task() + "' to upstream of '" + task.id() + "'");
        }
    }

    private String declared() {
        return spec.params().isEmpty() ? " (none declared yet)" : " (declared: " + String.join(", ", spec.params().keySet()) + ")";
    }

    private void error(String path, String message) {
        errors.add(new SpecError(path, message));
    }
}
