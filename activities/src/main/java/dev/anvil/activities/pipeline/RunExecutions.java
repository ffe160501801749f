package dev.anvil.activities.pipeline;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * A run's newest Temporal execution, as a retry needs to see it. A retried run keeps its id, which is its workflow
 * id, so Temporal also holds the execution that ended; the retry's own execution carries the instant PostgreSQL
 * reopened the run ({@code pipeline_runs.reopened_at}) in its memo under {@value #REOPENED_MEMO}. Comparing that
 * value, never two services' clocks, tells whether the newest execution is the retry's.
 */
public final class RunExecutions {
    /** The memo key of a retry's execution: the run's reopened_at, as {@link #token}. */
    public static final String REOPENED_MEMO = "anvil.reopenedAt";

    private RunExecutions() {
    }

    /** The run's newest execution: its status, and the reopen it was started for (null: not a retry's). */
    public record Latest(WorkflowExecutionStatus status, String reopenedToken) {
        public boolean running() {
            return status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
        }

        /** Whether this execution is the one started for the reopen {@code reopenedAt}. */
        public boolean startedFor(Instant reopenedAt) {
            return reopenedAt != null && token(reopenedAt).equals(reopenedToken);
        }
    }

    /** The memo value of a retry started for the reopen at {@code reopenedAt}. */
    public static String token(Instant reopenedAt) {
        return reopenedAt.toString();
    }

    /** The memo a retry's execution is started with. */
    public static Map<String, Object> memo(Instant reopenedAt) {
        return Map.of(REOPENED_MEMO, token(reopenedAt));
    }

    /** The newest execution of {@code workflowId}, or empty where Temporal has none. */
    public static Optional<Latest> describe(WorkflowServiceStubs stubs, String namespace, String workflowId) {
        WorkflowExecutionInfo info;
        try {
            info = stubs.blockingStub().describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
                            .setNamespace(namespace)
                            .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId))
                            .build())
                    .getWorkflowExecutionInfo();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                return Optional.empty();
            }
            throw e;
        }
        Payload reopened = info.getMemo().getFieldsMap().get(REOPENED_MEMO);
        String token = reopened == null ? null
                : DefaultDataConverter.STANDARD_INSTANCE.fromPayload(reopened, String.class, String.class);
        return Optional.of(new Latest(info.getStatus(), token));
    }
}
