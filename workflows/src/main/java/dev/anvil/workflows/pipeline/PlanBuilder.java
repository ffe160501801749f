package dev.anvil.workflows.pipeline;

import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.TaskSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Turns a validated spec and a run's parameters into the plan a {@link PipelineWorkflow} runs. */
public final class PlanBuilder {
    /** Tasks of one run that may run at once, unless the caller says otherwise. */
    public static final int DEFAULT_MAX_PARALLEL_TASKS = 16;

    private PlanBuilder() {}

    /** @param runParams values for this run; they override the spec's {@code params} defaults */
    public static PipelinePlan plan(PipelineSpec spec, int version, OperatorRegistry registry,
                                    Map<String, Object> runParams, String submittedBy) {
        Map<String, Object> params = new LinkedHashMap<>(spec.params());
        params.putAll(runParams);
        List<PlannedTask> tasks = new ArrayList<>();
        for (TaskSpec t : spec.tasks().values()) {
            // the operator's descriptor bounds its attempts: its own execution timeout (external) and heartbeat timeout
            Optional<OperatorDescriptor> operator = registry.find(t.operator());
            tasks.add(new PlannedTask(t.id(), t.operator(), List.copyOf(t.upstream()), t.triggerRule().specName(),
                    t.retries(), t.retryDelay(),
                    operator.flatMap(OperatorDescriptor::executionTimeout).orElse(t.executionTimeout()),
                    registry.queueFor(t), t.with(), registry.cacheable(t),
                    operator.flatMap(OperatorDescriptor::heartbeatTimeout).orElse(null)));
        }
        return new PipelinePlan(spec.name(), version, params, tasks, DEFAULT_MAX_PARALLEL_TASKS, submittedBy);
    }
}
