package dev.anvil.devstack;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.temporal.api.enums.v1.TaskQueueKind;
import io.temporal.api.taskqueue.v1.StickyExecutionAttributes;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueRequest;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedRequest;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;

/**
 * Gives a restarted worker the sticky queue of the worker it replaces, which the Java dev server
 * otherwise never does.
 *
 * <p>A worker with a workflow cache polls a sticky queue of its own (a random name) besides the shared
 * one, and after each workflow task asks Temporal to send that execution's next task there, with only
 * the new events: the cached workflow resumes instead of replaying its history. A real Temporal server
 * moves the task back to the shared queue when nobody polls the sticky queue within the worker's sticky
 * schedule-to-start timeout. The Java dev server ignores that timeout (and answers {@code ShutdownWorker}
 * and {@code ResetStickyTaskQueue} with nothing), so once a worker process dies every run it had cached
 * waits on its sticky queue for ever.
 *
 * <p>This interceptor names every sticky queue after the shared queue it belongs to
 * ({@code <queue>}{@value #SUFFIX}), in the two calls that carry it: a sticky poll and the completion that
 * asks for stickiness. Whatever worker polls a queue now polls the same sticky queue, so a restarted
 * worker receives the tasks its predecessor was sent; its cache does not hold those runs, and the SDK
 * fetches their full history and replays it (as for any cache miss). With one worker per queue, as local
 * mode runs, nothing else changes. Two live workers on one queue share the sticky queue: one may receive a
 * run the other cached, which it replays from full history; the other, if it later receives that run
 * again, finds its cached copy behind the history, fails that workflow task, and the dev server sends the
 * next one to the shared queue with the full history: slower, never wrong.
 */
final class StableStickyQueues implements ServerInterceptor {
    static final String SUFFIX = "@sticky";

    private static final String POLL = WorkflowServiceGrpc.getPollWorkflowTaskQueueMethod().getFullMethodName();
    private static final String COMPLETED =
            WorkflowServiceGrpc.getRespondWorkflowTaskCompletedMethod().getFullMethodName();

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        if (!method.equals(POLL) && !method.equals(COMPLETED)) {
            return next.startCall(call, headers);
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
            @Override
            @SuppressWarnings("unchecked")
            public void onMessage(Q message) {
                super.onMessage((Q) rename(message));
            }
        };
    }

    /** The request with its sticky queue named after its shared queue; any other message unchanged. */
    static Object rename(Object message) {
        if (message instanceof PollWorkflowTaskQueueRequest poll && isSticky(poll.getTaskQueue())) {
            return poll.toBuilder().setTaskQueue(stable(poll.getTaskQueue())).build();
        }
        if (message instanceof RespondWorkflowTaskCompletedRequest completed && completed.hasStickyAttributes()
                && isSticky(completed.getStickyAttributes().getWorkerTaskQueue())) {
            StickyExecutionAttributes sticky = completed.getStickyAttributes();
            return completed.toBuilder()
                    .setStickyAttributes(sticky.toBuilder().setWorkerTaskQueue(stable(sticky.getWorkerTaskQueue())))
                    .build();
        }
        return message;
    }

    /** A sticky queue that says which shared queue it belongs to (the Java SDK's always do). */
    private static boolean isSticky(TaskQueue queue) {
        return queue.getKind() == TaskQueueKind.TASK_QUEUE_KIND_STICKY && !queue.getNormalName().isEmpty();
    }

    private static TaskQueue stable(TaskQueue sticky) {
        return sticky.toBuilder().setName(sticky.getNormalName() + SUFFIX).build();
    }
}
