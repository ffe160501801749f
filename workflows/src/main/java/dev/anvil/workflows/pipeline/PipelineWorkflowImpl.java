package dev.anvil.workflows.pipeline;

import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.approval.ApprovalActivities;
import dev.anvil.workflows.approval.ApprovalDecision;
import dev.anvil.workflows.approval.ApprovalFailures;
import dev.anvil.workflows.approval.ApprovalOutcome;
import dev.anvil.workflows.approval.ApprovalRequest;
import dev.anvil.workflows.approval.ConfirmedDecision;
import dev.anvil.workflows.approval.DecisionToConfirm;
import dev.anvil.workflows.approval.RecordedDecision;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.Durations;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import dev.anvil.workflows.pipeline.spec.Reference;
import dev.anvil.workflows.pipeline.spec.References;
import dev.anvil.workflows.pipeline.spec.TriggerRule;
import dev.anvil.workflows.rollout.CanaryRequest;
import dev.anvil.workflows.rollout.CanaryResult;
import dev.anvil.workflows.rollout.CanaryRolloutWorkflow;
import dev.anvil.workflows.rollout.CanaryTaskActivities;
import dev.anvil.workflows.rollout.PreparedCanary;
import dev.anvil.workflows.runs.RunStateActivities;
import dev.anvil.workflows.runs.StateWrites;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.api.enums.v1.TimeoutType;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.ChildWorkflowFailure;
import io.temporal.failure.TimeoutFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.ChildWorkflowCancellationType;
import io.temporal.workflow.ChildWorkflowOptions;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One class on purpose: the DAG walk, the approval operator and its Update handlers all read and
 * change the same run state (task states, pending approvals) on the workflow thread, and what they
 * do must replay deterministically from history; kept together, every change to that state is in
 * one place. Moving approvals into a child workflow would split it, but changes the run's history.
 * A canary task is the other step that waits on people and live traffic: it runs its rollout as a child
 * {@link CanaryRolloutWorkflow} (the rollout has its own state, steered by its own Updates), between an
 * activity that admits it and one that records its end.
 *
 * <p>Walks the task DAG: every task whose upstream tasks allow it (by its trigger rule) starts at once,
 * up to the plan's parallelism; tasks whose trigger rule says they cannot run end as skipped or
 * upstream_failed. Retries, back-off and timeouts are Temporal's, from each task's options. State
 * changes go to PostgreSQL: a task's attempts from its own {@code RunTask} activity, the run's state and tasks that
 * end without running through local activities; the query reports them live.
 */
public class PipelineWorkflowImpl implements PipelineWorkflow {

    /** Run and task state writes; local activities from {@link #LOCAL_STATE_WRITES} on, chosen as the run starts. */
    private RunStateActivities runState;
    private TaskActivities recorder;

    private final ApprovalActivities approvalRecords = Workflow.newActivityStub(ApprovalActivities.class, StateWrites.OPTIONS);

    /** The operator the workflow runs itself (a wait for reviewers' Updates), never as an activity. */
    static final String APPROVAL = "approval";
    /** A gate without with.report checks its upstream task's report output. */
    static final String GATE = "gate";
    /** The operator whose rollout runs as a child workflow, after an activity that admits it. */
    static final String CANARY = "canary";
    /**
     * Change id: a canary task runs its rollout as a child workflow (version 1). Runs recorded before it ran
     * the task as one {@code RunTask} activity that started the rollout and polled it; they replay that way.
     */
    static final String CANARY_AS_CHILD = "canary-as-child-workflow";
    /**
     * Change id: the run's and tasks' state writes ({@code runStarted}, {@code runFinished}, {@code recordTaskState})
     * run as local activities (version 1), inside the workflow task that asks for them: no activity task on the
     * queue and no second workflow task for each result. Runs recorded before it ran them as ordinary activities;
     * they replay that way.
     */
    static final String LOCAL_STATE_WRITES = "local-state-writes";

    private final Map<String, TaskState> states = new LinkedHashMap<>();
    /** Approvals waiting for decisions, by task id. */
    private final Map<String, PendingApproval> approvals = new LinkedHashMap<>();
    /** Canary tasks running as child workflows, by task id: a cancelled run waits for their rollouts to abort. */
    private final Map<String, Promise<TaskResult>> canaries = new LinkedHashMap<>();
    /** Each task's queue and how long it may wait there, for the message when nobody polls it. */
    private final Map<String, String> queues = new LinkedHashMap<>();
    private Duration scheduleToStartTimeout;
    private String submittedBy;
    private String runId;
    private String status = "queued";

    @Override
    public RunState run(PipelinePlan plan) {
        runId = Workflow.getInfo().getWorkflowId();
        submittedBy = plan.submittedBy();
        scheduleToStartTimeout = plan.scheduleToStartTimeout();
        for (PlannedTask task : plan.tasks()) {
            TaskState kept = plan.carriedOver().get(task.id());
            states.put(task.id(), kept != null ? kept : new TaskState(task.id(), TaskState.QUEUED, Map.of(), null, null, null));
            queues.put(task.id(), task.queue());
        }
        List<Promise<Void>> records = new ArrayList<>();
        Map<String, Promise<TaskResult>> running = new LinkedHashMap<>();
        if (Workflow.getVersion(LOCAL_STATE_WRITES, Workflow.DEFAULT_VERSION, 1) == 1) {
            runState = Workflow.newLocalActivityStub(RunStateActivities.class, StateWrites.LOCAL_OPTIONS);
            recorder = Workflow.newLocalActivityStub(TaskActivities.class, StateWrites.LOCAL_OPTIONS);
        } else {
            runState = Workflow.newActivityStub(RunStateActivities.class, StateWrites.OPTIONS);
            recorder = Workflow.newActivityStub(TaskActivities.class, StateWrites.OPTIONS);
        }
        try {
            runState.runStarted(runId);
            status = "running";
            walk(plan, running, records);
            Promise.allOf(records).get();
            // a decision that arrived as the run ended finishes recording before the run completes
            Workflow.await(Workflow::isEveryHandlerFinished);
        } catch (CanceledFailure e) {
            Workflow.newDetachedCancellationScope(() -> recordCancellation(plan, running.keySet())).run();
            throw e;
        }
        status = runFailed(plan) ? "failed" : "success";
        runState.runFinished(runId, status, status.equals("failed") ? failureSummary() : null);
        return state();
    }

    @Override
    public RunState state() {
        return new RunState(runId, status, List.copyOf(states.values()));
    }

    private void walk(PipelinePlan plan, Map<String, Promise<TaskResult>> running, List<Promise<Void>> records) {
        Map<String, Map<String, Object>> outputs = new LinkedHashMap<>();
        plan.carriedOver().forEach((id, kept) -> outputs.put(id, kept.outputs()));
        Map<String, Object> run = Map.of("id", runId, "logical_date", plan.logicalDate() != null ? plan.logicalDate()
                : java.time.Instant.ofEpochMilli(Workflow.currentTimeMillis()).toString());
        int parallel = Math.max(1, plan.maxParallelTasks());

        while (true) {
            boolean progressed;
            do {
                progressed = false;
                for (PlannedTask task : plan.tasks()) {
                    if (!states.get(task.id()).status().equals(TaskState.QUEUED) || running.containsKey(task.id())) {
                        continue;
                    }
                    List<String> upstream = task.upstream().stream().map(u -> states.get(u).status()).toList();
                    switch (TriggerRule.fromSpecName(task.triggerRule()).orElseThrow().decide(upstream)) {
                        case RUN -> {
                            if (running.size() < parallel) {
                                start(task, plan, outputs, run, running, records);
                                progressed = true;
                            }
                        }
                        case SKIP -> {
                            end(plan, task, TaskState.SKIPPED, null, records);
                            progressed = true;
                        }
                        case UPSTREAM_FAILED -> {
                            end(plan, task, TaskState.UPSTREAM_FAILED, "an upstream task failed", records);
                            progressed = true;
                        }
                        case WAIT -> { }
                    }
                }
            } while (progressed);
            if (running.isEmpty()) {
                return;
            }
            Workflow.await(() -> running.values().stream().anyMatch(Promise::isCompleted));
            harvest(running, outputs);
        }
    }

    private void start(PlannedTask task, PipelinePlan plan, Map<String, Map<String, Object>> outputs,
                       Map<String, Object> run, Map<String, Promise<TaskResult>> running,
                       List<Promise<Void>> records) {
        long now = Workflow.currentTimeMillis();
        Map<String, Object> with;
        try {
            with = resolve(task.with(), plan.params(), outputs, run);
        } catch (IllegalArgumentException e) {
            // the validator rejects unresolvable references; an upstream output that is missing at
            // run time (the operator did not produce it) still ends here, failing only this task
            states.put(task.id(), new TaskState(task.id(), TaskState.FAILED, Map.of(), e.getMessage(), now, now));
            records.add(Async.procedure(recorder::recordTaskState, runId, task.id(), task.operator(),
                    nextAttempt(plan, task), TaskState.FAILED, e.getMessage()));
            return;
        }
        if (task.operator().equals(GATE) && !with.containsKey("report")) {
            with = withUpstreamReport(task, with, outputs);
        }
        if (task.operator().equals(APPROVAL)) {
            Map<String, Object> approvalWith = with;
            int attempt = nextAttempt(plan, task);
            states.put(task.id(), new TaskState(task.id(), TaskState.RUNNING, Map.of(), null, now, null));
            running.put(task.id(), Async.function(() -> awaitApproval(task, approvalWith, attempt)));
            return;
        }
        if (task.operator().equals(CANARY)
                && Workflow.getVersion(CANARY_AS_CHILD, Workflow.DEFAULT_VERSION, 1) == 1) {
            TaskInvocation invocation = new TaskInvocation(runId, task.id(), task.operator(), with, task.retries() + 1,
                    plan.previousAttempts().getOrDefault(task.id(), 0), false);
            ActivityOptions options = taskOptions(task, with, plan.scheduleToStartTimeout());
            states.put(task.id(), new TaskState(task.id(), TaskState.RUNNING, Map.of(), null, now, null));
            Promise<TaskResult> canary = Async.function(() -> runCanary(task, invocation, options));
            canaries.put(task.id(), canary);
            running.put(task.id(), canary);
            return;
        }
        TaskActivities stub = Workflow.newActivityStub(TaskActivities.class, taskOptions(task, with, plan.scheduleToStartTimeout()));
        states.put(task.id(), new TaskState(task.id(), TaskState.RUNNING, Map.of(), null, now, null));
        running.put(task.id(), Async.function(stub::runTask,
                new TaskInvocation(runId, task.id(), task.operator(), with, task.retries() + 1,
                        plan.previousAttempts().getOrDefault(task.id(), 0), task.cache())));
    }

    private Map<String, Object> withUpstreamReport(PlannedTask task, Map<String, Object> with,
                                                   Map<String, Map<String, Object>> outputs) {
        for (String upstream : task.upstream()) {
            Object report = outputs.getOrDefault(upstream, Map.of()).get("report");
            if (report != null) {
                Map<String, Object> filled = new LinkedHashMap<>(with);
                filled.put("report", report);
                return filled;
            }
        }
        return with;
    }

    /** A pending approval task: who approved so far, and how it ended. */
    private static final class PendingApproval {
        final String approvalId;
        final int required;
        final List<String> approvedBy = new ArrayList<>();
        /** The submitted decision ids this approval was sent, each counted (or refused) once. */
        final Set<String> decisionIds = new java.util.LinkedHashSet<>();
        String state = "pending";
        String rejectedBy;
        String rejectComment;
        /** The approval row being written; a withdrawal waits for it. */
        Promise<Void> opened;

        PendingApproval(String approvalId, int required) {
            this.approvalId = approvalId;
            this.required = required;
        }

        boolean done() {
            return !state.equals("pending");
        }
    }

    /**
     * The approval operator: opens the approval, waits (durably, for days if need be) until enough
     * distinct reviewers approved, one rejected, or the timeout passed, and records the end. Runs in
     * the workflow, so a decision is an Update ({@link #decideRecorded}) that an activity confirms from the
     * database before it counts.
     */
    private TaskResult awaitApproval(PlannedTask task, Map<String, Object> with, int attempt) {
        String approvalId = runId + "." + task.id() + "." + attempt;
        int required = with.get("required_approvals") instanceof Number n ? n.intValue() : 1;
        String summary = with.get("summary") instanceof String text ? text : null;
        java.util.Optional<Duration> timeout = with.get("timeout") instanceof String text
                ? Durations.parse(text) : java.util.Optional.empty();
        boolean autoReject = "reject".equals(with.get("on_timeout"));
        if (with.get("timeout") != null && timeout.isEmpty()) {
            String error = "approval: with.timeout '" + with.get("timeout") + "' is not " + Durations.FORMS;
            recorder.recordTaskState(runId, task.id(), APPROVAL, attempt, TaskState.FAILED, error);
            throw ApplicationFailure.newNonRetryableFailure(error, TaskActivities.INVALID_INPUT);
        }
        ApprovalRequest request = new ApprovalRequest(approvalId, runId, task.id(), attempt, required, submittedBy, summary);
        PendingApproval pending = new PendingApproval(approvalId, required);
        // known as pending before its row is written, and the write is not cancellable: a run cancelled
        // meanwhile withdraws the approval once the row exists, instead of leaving it pending for ever
        approvals.put(task.id(), pending);
        Workflow.newDetachedCancellationScope(() -> pending.opened = Async.procedure(approvalRecords::open, request))
                .run();
        pending.opened.get();
        states.put(task.id(), new TaskState(task.id(), TaskState.RUNNING, Map.of("approval", approvalId), null,
                states.get(task.id()).startedAtMillis(), null));
        boolean decided;
        if (timeout.isPresent()) {
            decided = Workflow.await(timeout.get(), pending::done);
        } else {
            Workflow.await(pending::done);
            decided = true;
        }
        String error = null;
        String type = null;
        if (!decided) {
            pending.state = approvalRecords.timeOut(approvalId, autoReject, (String) with.get("timeout"));
            error = (autoReject ? "rejected automatically: " : "approval expired: ") + "no decision within "
                    + with.get("timeout") + " (" + pending.approvedBy.size() + " of " + required + " approvals)";
            type = ApprovalFailures.EXPIRED;
        } else if (pending.state.equals("rejected")) {
            error = "rejected by " + pending.rejectedBy + ": " + pending.rejectComment;
            type = ApprovalFailures.REJECTED;
        }
        recorder.recordTaskState(runId, task.id(), APPROVAL, attempt, error == null ? TaskState.SUCCESS : TaskState.FAILED, error);
        if (error != null) {
            throw ApplicationFailure.newNonRetryableFailure(error, type);
        }
        return new TaskResult(Map.of("approval", approvalId, "state", pending.state, "approved_by", List.copyOf(pending.approvedBy)));
    }

    /**
     * The canary operator: an activity opens the attempt and admits the rollout (evidence, provenance, four-eyes,
     * the endpoint's signature), then the rollout runs as a child workflow under its rollout id, for as long as it
     * takes: a person may hold it paused for days, and the task's execution timeout bounds only the admission.
     * Cancelling the run cancels the child, which aborts the rollout (traffic back on the stable version).
     */
    private TaskResult runCanary(PlannedTask task, TaskInvocation invocation, ActivityOptions options) {
        PreparedCanary prepared = Workflow.newActivityStub(CanaryTaskActivities.class, options).prepare(invocation);
        CanaryRequest request = prepared.request();
        states.put(task.id(), new TaskState(task.id(), TaskState.RUNNING, Map.of("rollout", request.rolloutId()), null,
                states.get(task.id()).startedAtMillis(), null));
        CanaryRolloutWorkflow rollout = Workflow.newChildWorkflowStub(CanaryRolloutWorkflow.class,
                ChildWorkflowOptions.newBuilder()
                        .setWorkflowId(request.rolloutId())
                        // no task queue (the run's own, where workflows are polled) and no timeout: a pause may
                        // last days. A run that ends other than by a cancel (terminated, timed out) still aborts it
                        .setParentClosePolicy(ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL)
                        // the run's cancel waits until the rollout has put traffic back on the stable version
                        .setCancellationType(ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED)
                        .build());
        CanaryTaskActivities records = Workflow.newActivityStub(CanaryTaskActivities.class, StateWrites.OPTIONS);
        CanaryResult result;
        try {
            result = rollout.run(request);
        } catch (ChildWorkflowFailure e) {
            if (CancellationScope.current().isCancelRequested()) {
                throw e; // the run was cancelled: recordCancellation ends the attempt
            }
            String error = "canary: rollout " + request.rolloutId() + (e.getCause() instanceof CanceledFailure
                    ? " was cancelled outside this run, which aborts it" : " failed: " + rootMessage(e));
            records.finish(prepared.taskRunId(), TaskState.FAILED, null, error);
            throw ApplicationFailure.newNonRetryableFailure(error, CanaryTaskActivities.ROLLOUT_FAILED);
        }
        Map<String, Object> outputs = new LinkedHashMap<>();
        outputs.put("rollout", request.rolloutId());
        outputs.put("state", result.state());
        outputs.put("endpoint", result.endpoint());
        outputs.put("model", result.model());
        outputs.put("stable_version", result.stableVersion());
        outputs.put("candidate_version", result.candidateVersion());
        outputs.put("windows", result.analyses().size());
        if (!"promoted".equals(result.state())) {
            // the analysis (or the person) decided: a fact about the candidate, not bad input, and never retried
            String error = "canary: rollout " + request.rolloutId() + " " + result.state().replace('_', ' ')
                    + (result.decidedBy() == null ? "" : " by " + result.decidedBy())
                    + (result.reason() == null ? "" : ": " + result.reason());
            records.finish(prepared.taskRunId(), TaskState.FAILED, outputs, error);
            throw ApplicationFailure.newNonRetryableFailure(error, "rolled_back".equals(result.state())
                    ? CanaryTaskActivities.ROLLED_BACK : CanaryTaskActivities.ABORTED);
        }
        records.finish(prepared.taskRunId(), TaskState.SUCCESS, outputs, null);
        return new TaskResult(outputs);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t instanceof ApplicationFailure app ? app.getOriginalMessage() : t.getMessage();
    }

    @Override
    public void validateDecideRecorded(RecordedDecision decision) {
        if (decision == null || decision.taskId() == null || decision.decisionId() == null || decision.decisionId().isBlank()) {
            throw ApplicationFailure.newNonRetryableFailure("a decision names its approval task and the id Anvil's API"
                    + " submitted it under; decide with POST /api/approvals/{id}/approve or /reject",
                    ApprovalFailures.UNKNOWN_DECISION);
        }
        PendingApproval pending = waitingApproval(decision.taskId());
        if (pending.decisionIds.contains(decision.decisionId())) {
            throw ApplicationFailure.newNonRetryableFailure("decision '" + decision.decisionId() + "' was already used on"
                    + " approval " + pending.approvalId + "; each decision counts once", ApprovalFailures.ALREADY_DECIDED);
        }
    }

    /**
     * Counts a decision only once an activity has confirmed it from what the API wrote: a validator may
     * not do I/O, and an Update handler may run activities. No getVersion is needed: runs recorded before
     * this handler existed never called it, and their {@code decide} Updates replay through {@link #decide}.
     */
    @Override
    public ApprovalOutcome decideRecorded(RecordedDecision decision) {
        PendingApproval pending = approvals.get(decision.taskId());
        // known before the activity runs, so the same id sent again meanwhile is refused by the validator
        pending.decisionIds.add(decision.decisionId());
        ConfirmedDecision confirmed;
        try {
            confirmed = approvalRecords.confirmDecision(new DecisionToConfirm(decision.decisionId(), pending.approvalId,
                    submittedBy, Workflow.randomUUID().toString()));
        } catch (ActivityFailure e) {
            // the Update fails with the refusal's type and words; the approval keeps waiting
            if (e.getCause() instanceof ApplicationFailure refusal) {
                throw ApplicationFailure.newNonRetryableFailure(refusal.getOriginalMessage(), refusal.getType());
            }
            throw e;
        }
        return count(pending, confirmed.reviewer(), confirmed.decision(), confirmed.comment(), confirmed.state());
    }

    @Override
    public void validateDecide(ApprovalDecision decision) {
        throw ApplicationFailure.newNonRetryableFailure("decide no longer takes a reviewer's name and roles: a decision"
                + " is submitted through Anvil's API (POST /api/approvals/{id}/approve or /reject), which records who"
                + " made it, and the run counts it only once confirmed from there", ApprovalFailures.UNKNOWN_DECISION);
    }

    /** Replays runs decided before decisions were recorded first; its validator refuses every new call. */
    @Override
    public ApprovalOutcome decide(ApprovalDecision decision) {
        PendingApproval pending = approvals.get(decision.taskId());
        String stored = approvalRecords.recordDecision(pending.approvalId, decision.reviewer(), decision.decision(),
                decision.comment());
        return count(pending, decision.reviewer(), decision.decision(), decision.comment(), stored);
    }

    /** The approval waiting on {@code taskId}, or a NOT_PENDING refusal saying what the task is instead. */
    private PendingApproval waitingApproval(String taskId) {
        PendingApproval pending = approvals.get(taskId);
        if (pending == null || pending.done()) {
            TaskState state = states.get(taskId);
            throw ApplicationFailure.newNonRetryableFailure("task '" + taskId + "' of run " + runId
                    + " is not waiting for approval" + (pending != null ? " (it was " + pending.state + ")"
                    : state != null ? " (it is " + state.status() + ")" : " (no such task)"), ApprovalFailures.NOT_PENDING);
        }
        return pending;
    }

    /** Applies a recorded decision to the waiting approval; {@code stored} is the approval's state in the database after it. */
    private static ApprovalOutcome count(PendingApproval pending, String reviewer, String decision, String comment,
                                         String stored) {
        if (ApprovalDecision.APPROVE.equals(decision)) {
            pending.approvedBy.add(reviewer);
        } else if (pending.rejectedBy == null) {
            pending.rejectedBy = reviewer;
            pending.rejectComment = comment;
        }
        if (!pending.done()) {
            pending.state = stored;
        }
        return new ApprovalOutcome(pending.approvalId, pending.state, List.copyOf(pending.approvedBy), pending.required);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> resolve(Map<String, Object> with, Map<String, Object> params,
                                               Map<String, Map<String, Object>> outputs, Map<String, Object> run) {
        return (Map<String, Object>) References.render(with, ref -> {
            Map<String, ?> source = switch (ref.kind()) {
                case PARAM -> params;
                case RUN -> run;
                case TASK_OUTPUT -> outputs.getOrDefault(ref.task(), Map.of());
            };
            if (!source.containsKey(ref.name())) {
                throw new IllegalArgumentException(ref.text() + " does not resolve: "
                        + (ref.kind() == Reference.Kind.TASK_OUTPUT ? "task '" + ref.task() + "' produced no output '"
                        + ref.name() + "'" : "no value for '" + ref.name() + "'"));
            }
            return source.get(ref.name());
        });
    }

    /**
     * Each task's timeout and retries come from its spec; bad input to an operator is never retried. A task
     * that waits longer than the plan's schedule-to-start timeout for a worker fails (Temporal does not retry
     * that timeout): its queue has no poller, and waiting for the execution timeout would hide it. Options
     * are not part of what replay compares, so older runs (no timeout) replay unchanged without getVersion.
     */
    private static ActivityOptions taskOptions(PlannedTask task, Map<String, Object> with,
            Duration scheduleToStartTimeout) {
        Duration delay = task.retryDelay().isZero() || task.retryDelay().isNegative() ? Duration.ofSeconds(1) : task.retryDelay();
        ActivityOptions.Builder options = ActivityOptions.newBuilder();
        if (scheduleToStartTimeout != null && !scheduleToStartTimeout.isZero() && !scheduleToStartTimeout.isNegative()) {
            options.setScheduleToStartTimeout(scheduleToStartTimeout);
        }
        // the operator's heartbeat timeout (its descriptor's, in the plan): a dead worker is noticed within it, not at
        // the task's execution timeout, and the retry resumes from the last heartbeat. Plans made before they carried
        // it take the built-in operator's.
        Duration heartbeat = task.heartbeatTimeout() != null ? task.heartbeatTimeout()
                : BuiltInOperators.find(task.operator()).flatMap(OperatorDescriptor::heartbeatTimeout).orElse(null);
        if (heartbeat != null) {
            options.setHeartbeatTimeout(heartbeat);
        }
        Duration startToClose = task.executionTimeout();
        if (task.operator().equals(BuiltInOperators.EXTERNAL.name())) {
            // an outside training service holds the attempt: its heartbeats (through the API) must come within
            // with.heartbeat_timeout, and the whole attempt within with.timeout, not the task's execution timeout
            options.setHeartbeatTimeout(BuiltInOperators.externalDuration(
                    with, "heartbeat_timeout", BuiltInOperators.EXTERNAL_HEARTBEAT));
            startToClose = BuiltInOperators.externalDuration(with, "timeout", BuiltInOperators.EXTERNAL_TIMEOUT);
        }
        return options
                .setTaskQueue(task.queue())
                .setStartToCloseTimeout(startToClose)
                .setRetryOptions(RetryOptions.newBuilder()
                        .setInitialInterval(delay)
                        // fixed delay between attempts, as Airflow's retry_delay
                        .setBackoffCoefficient(1.0)
                        .setMaximumAttempts(task.retries() + 1)
                        .setDoNotRetry(TaskActivities.INVALID_INPUT)
                        .build())
                .build();
    }

    private void harvest(Map<String, Promise<TaskResult>> running, Map<String, Map<String, Object>> outputs) {
        Iterator<Map.Entry<String, Promise<TaskResult>>> it = running.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<String, Promise<TaskResult>> entry = it.next();
            Promise<TaskResult> promise = entry.getValue();
            if (!promise.isCompleted()) {
                continue;
            }
            it.remove();
            String id = entry.getKey();
            TaskState before = states.get(id);
            long now = Workflow.currentTimeMillis();
            RuntimeException failure = promise.getFailure();
            if (failure == null) {
                Map<String, Object> out = promise.get().outputs() == null ? Map.of() : promise.get().outputs();
                outputs.put(id, out);
                states.put(id, new TaskState(id, TaskState.SUCCESS, out, null, before.startedAtMillis(), now));
            } else {
                if (failure instanceof CanceledFailure cancelled) {
                    throw cancelled;
                }
                states.put(id, new TaskState(id, TaskState.FAILED, Map.of(), reason(failure, queues.get(id)), before.startedAtMillis(), now));
            }
        }
    }

    private void end(PipelinePlan plan, PlannedTask task, String state, String error, List<Promise<Void>> records) {
        long now = Workflow.currentTimeMillis();
        states.put(task.id(), new TaskState(task.id(), state, Map.of(), error, null, now));
        records.add(Async.procedure(recorder::recordTaskState, runId, task.id(), task.operator(), nextAttempt(plan, task),
                state, error));
    }

    /** The attempt number a task that ends without running is recorded under. */
    private static int nextAttempt(PipelinePlan plan, PlannedTask task) {
        return plan.previousAttempts().getOrDefault(task.id(), 0) + 1;
    }

    private void recordCancellation(PipelinePlan plan, Set<String> running) {
        // a canary's rollout aborts first (its child workflow was cancelled with the run): its attempt ends after
        for (Promise<TaskResult> canary : canaries.values()) {
            canary.handle((result, failure) -> (Void) null).get();
        }
        long now = Workflow.currentTimeMillis();
        List<Promise<Void>> records = new ArrayList<>();
        for (PlannedTask task : plan.tasks()) {
            TaskState s = states.get(task.id());
            if (s.isDone()) {
                continue;
            }
            String state = running.contains(task.id()) ? TaskState.FAILED : TaskState.SKIPPED;
            String error = running.contains(task.id()) ? "cancelled with the run" : null;
            // 0: the running attempt, whose number only its activity knows
            int attempt = running.contains(task.id()) ? 0 : nextAttempt(plan, task);
            states.put(task.id(), new TaskState(task.id(), state, Map.of(), error, s.startedAtMillis(), now));
            records.add(Async.procedure(recorder::recordTaskState, runId, task.id(), task.operator(), attempt, state, error));
        }
        // approvals still waiting are withdrawn (only runs with an approval task reach this)
        for (PendingApproval pending : approvals.values()) {
            if (!pending.done()) {
                pending.state = "expired";
                records.add(pending.opened.handle((done, failure) -> (Void) null)
                        .thenCompose(done -> Async.procedure(approvalRecords::withdraw, pending.approvalId)));
            }
        }
        Promise.allOf(records).get();
        status = "cancelled";
        runState.runFinished(runId, "cancelled", null);
    }

    /** As Airflow: a run fails when one of its leaf tasks failed or could not run because of a failure. */
    private boolean runFailed(PipelinePlan plan) {
        Set<String> hasDownstream = new HashSet<>();
        plan.tasks().forEach(t -> hasDownstream.addAll(t.upstream()));
        return plan.tasks().stream()
                .filter(t -> !hasDownstream.contains(t.id()))
                .map(t -> states.get(t.id()).status())
                .anyMatch(s -> s.equals(TaskState.FAILED) || s.equals(TaskState.UPSTREAM_FAILED));
    }

    private String failureSummary() {
        List<String> failed = new ArrayList<>();
        states.values().stream().filter(s -> s.status().equals(TaskState.FAILED))
                .forEach(s -> failed.add(s.taskId() + ": " + s.error()));
        return failed.isEmpty() ? "a leaf task could not run because an upstream task failed" : String.join("; ", failed);
    }

    private String reason(RuntimeException failure, String queue) {
        Throwable t = failure instanceof ActivityFailure a && a.getCause() != null ? a.getCause() : failure;
        if (t instanceof ApplicationFailure app) {
            return app.getOriginalMessage();
        }
        if (t instanceof TimeoutFailure timeout && timeout.getTimeoutType() == TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START) {
            return TaskQueues.unpolledMessage(queue, scheduleToStartTimeout);
        }
        if (t instanceof TimeoutFailure timeout) {
            return "timed out (" + timeout.getTimeoutType().name().replace("TIMEOUT_TYPE_", "").toLowerCase() + ")";
        }
        return t.getMessage();
    }
}
