package dev.anvil.api.ui;

import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineStore;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.SpecLoader;
import dev.anvil.workflows.pipeline.spec.TaskSpec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What an approval is about, read from the pipeline spec the run was started with: the approval task's
 * {@code summary}, and the canary rollouts downstream of it that approving lets start (on which endpoint,
 * with which steps). Values are shown as the spec writes them ({@code {{ ... }}} templates included).
 *
 * @param summary null when the task has none or the spec is gone
 * @param canaries empty when nothing downstream is a canary (or the spec is gone)
 */
record ApprovalPlan(String summary, List<Canary> canaries, boolean specKnown) {

    /** A downstream canary task: the endpoint and the traffic steps its rollout walks. */
    record Canary(String task, Object endpoint, Object model, Object steps, Object interval) {
    }

    /** The rollout's steps when the task names none (CanarySpec's default). */
    static final List<Integer> DEFAULT_STEPS = List.of(5, 25, 50, 100);

    static ApprovalPlan of(PipelineRun run, String approvalTask, PipelineStore pipelines) {
        if (run == null || run.pipelineVersion() == null) {
            return new ApprovalPlan(null, List.of(), false);
        }
        return pipelines.find(run.pipeline(), run.pipelineVersion()).map(v -> {
            try {
                return of(SpecLoader.load(v.spec(), OperatorRegistry.builtIns(), Set.of()), approvalTask);
            } catch (Exception e) {
                // an old spec that no longer validates: say nothing rather than something wrong
                return new ApprovalPlan(null, List.of(), false);
            }
        }).orElse(new ApprovalPlan(null, List.of(), false));
    }

    static ApprovalPlan of(PipelineSpec spec, String approvalTask) {
        TaskSpec approval = spec.tasks().get(approvalTask);
        String summary = approval != null && approval.with().get("summary") instanceof String s ? s : null;
        List<Canary> canaries = new ArrayList<>();
        for (String id : downstream(spec, approvalTask)) {
            TaskSpec t = spec.tasks().get(id);
            if (BuiltInOperators.CANARY.name().equals(t.operator())) {
                Map<String, Object> with = t.with();
                canaries.add(new Canary(id, with.get("endpoint"), with.get("model"),
                        with.getOrDefault("steps", DEFAULT_STEPS), with.get("interval")));
            }
        }
        return new ApprovalPlan(summary, canaries, true);
    }

    /** The tasks that run after {@code task}, directly or through others, in the spec's order. */
    private static Set<String> downstream(PipelineSpec spec, String task) {
        Set<String> found = new LinkedHashSet<>();
        Deque<String> todo = new ArrayDeque<>(List.of(task));
        while (!todo.isEmpty()) {
            String current = todo.pop();
            for (TaskSpec t : spec.tasks().values()) {
                if (t.upstream().contains(current) && found.add(t.id())) {
                    todo.push(t.id());
                }
            }
        }
        Set<String> ordered = new LinkedHashSet<>();
        spec.tasks().keySet().stream().filter(found::contains).forEach(ordered::add);
        return ordered;
    }
}
