package dev.anvil.workflows.pipeline;

import java.util.List;
import java.util.Map;

/**
 * What a {@link PipelineWorkflow} runs: the validated spec's tasks in declaration order, the run's
 * parameters, and how many tasks may run at once.
 */
public record PipelinePlan(
        String pipeline,
        int pipelineVersion,
        Map<String, Object> params,
        List<PlannedTask> tasks,
        int maxParallelTasks,
        String submittedBy) {}
