package dev.anvil.workflows.pipeline;

import java.util.List;
import java.util.Map;

/**
 * What a {@link PipelineWorkflow} runs: the validated spec's tasks in declaration order, the run's
 * parameters, and how many tasks may run at once.
 *
 * @param logicalDate for a scheduled run, the schedule tick it stands for (ISO-8601); null for a run
 *                    started by hand, whose logical date is its start
 */
public record PipelinePlan(
        String pipeline,
        int pipelineVersion,
        Map<String, Object> params,
        List<PlannedTask> tasks,
        int maxParallelTasks,
        String submittedBy,
        String logicalDate) {

    public PipelinePlan(String pipeline, int pipelineVersion, Map<String, Object> params, List<PlannedTask> tasks,
                        int maxParallelTasks, String submittedBy) {
        this(pipeline, pipelineVersion, params, tasks, maxParallelTasks, submittedBy, null);
    }

    public PipelinePlan withLogicalDate(String date) {
        return new PipelinePlan(pipeline, pipelineVersion, params, tasks, maxParallelTasks, submittedBy, date);
    }
}
