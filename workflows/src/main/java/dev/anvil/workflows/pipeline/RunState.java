package dev.anvil.workflows.pipeline;

import java.util.List;

/** The live state of a pipeline run: run state (queued, running, success, failed, cancelled) and every task's. */
public record RunState(String runId, String status, List<TaskState> tasks) {}
