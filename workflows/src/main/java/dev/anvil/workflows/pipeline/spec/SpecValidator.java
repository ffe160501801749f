package dev.anvil.workflows.pipeline.spec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks that a parsed spec makes sense as a whole: operators exist and accept their
 * {@code with}, upstreams exist and form no cycle, and every reference can be resolved.
 */
public final class SpecValidator {
    private SpecValidator() {}

    /**
     * Every problem found, in task declaration order; empty when the spec can run.
     *
     * @param runtimeParams params that will be supplied when the run starts, beyond those the spec declares
     */
    public static List<SpecError> validate(PipelineSpec spec, OperatorRegistry registry, Set<String> runtimeParams) {
        List<SpecError> errors = new ArrayList<>();
        Dag dag = Dag.of(spec);
        for (TaskSpec task : spec.tasks().values()) {
            checkOperator(task, registry, errors);
            checkUpstream(task, spec, errors);
        }
        checkCycles(spec, dag, errors);
        Map<String, Set<String>> upstreamClosures = new HashMap<>();
        for (TaskSpec task : spec.tasks().values()) {
            new ReferenceCheck(spec, task, runtimeParams, () -> upstreamClosures
                    .computeIfAbsent(task.id(), dag::upstreamClosure), errors)
                    .walk(task.with(), "tasks." + task.id() + ".with");
        }
        return errors;
    }

    private static void checkOperator(TaskSpec task, OperatorRegistry registry, List<SpecError> errors) {
        if (task.operator().isEmpty()) {
            return; // the parser already reported the missing operator
        }
        String path = "tasks." + task.id();
        registry.find(task.operator()).ifPresentOrElse(
                op -> {
                    errors.addAll(WithValidator.validate(op, task.with(), path + ".with"));
                    checkQueue(task, op, errors);
                },
                () -> errors.add(new SpecError(path + ".operator", "unknown operator '" + task.operator()
                        + "'; known operators: " + String.join(", ", registry.names()))));
    }

    /** A task whose {@code with} needs a queue (a GPU worker) may not name another one, itself or by default_args. */
    private static void checkQueue(TaskSpec task, OperatorDescriptor op, List<SpecError> errors) {
        op.routeFor(task.with()).ifPresent(route -> task.queue().filter(q -> !q.equals(route.queue())).ifPresent(q ->
                errors.add(new SpecError("tasks." + task.id() + ".queue", "'" + q + "' cannot run " + op.name()
                        + " with " + route.field() + ": " + route.value() + ", which runs on " + route.queue() + " ("
                        + route.why() + "); remove queue (here and in default_args) or set it to " + route.queue()))));
    }

    private static void checkUpstream(TaskSpec task, PipelineSpec spec, List<SpecError> errors) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < task.upstream().size(); i++) {
            String up = task.upstream().get(i);
            String path = "tasks." + task.id() + ".upstream[" + i + "]";
            if (up.equals(task.id())) {
                errors.add(new SpecError(path, "task '" + up + "' depends on itself; remove it from its own upstream"));
            } else if (!spec.tasks().containsKey(up)) {
                errors.add(new SpecError(path, "unknown upstream task '" + up + "'; tasks in this pipeline: "
                        + String.join(", ", spec.tasks().keySet())));
            } else if (!seen.add(up)) {
                errors.add(new SpecError(path, "upstream task '" + up + "' is listed twice; remove the repeat"));
            }
        }
    }

    private static void checkCycles(PipelineSpec spec, Dag dag, List<SpecError> errors) {
        for (List<String> cycle : dag.cycles()) {
            // Point at the link that closes the cycle: the first task waits for the one before it.
            String first = cycle.get(0);
            String closer = cycle.get(cycle.size() - 2);
            int at = spec.task(first).upstream().indexOf(closer);
            errors.add(new SpecError("tasks." + first + ".upstream[" + at + "]", "cycle " + String.join(" -> ", cycle)
                    + ": these tasks wait for each other; remove one of these upstream links"));
        }
    }
}
