package dev.anvil.devstack;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.temporal.api.command.v1.Command;
import io.temporal.api.enums.v1.CommandType;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueResponse;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedRequest;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedResponse;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import io.temporal.internal.testservice.TestWorkflowService;
import java.util.List;

/**
 * Eager activity dispatch for the Java dev server, as a real Temporal server does it: a worker that completes a
 * workflow task with ScheduleActivityTask commands marked {@code request_eager_execution} (the Java SDK marks
 * those on its own task queue for which it holds a free activity slot, at most three per workflow task) gets
 * those activity tasks, already started, in the reply, instead of each going through an activity poll.
 *
 * <p>Per task this saves one of the four exchanges with Temporal (the activity poll's answer and the poll that
 * follows it) and the wait for a poller to wake, which on a small machine is most of what a task costs
 * (bench/README.md). Activities the worker did not ask for, or on another queue, are polled as before; an
 * eagerly dispatched task that its worker never finishes times out and is retried like any other (its
 * start-to-close or heartbeat timeout), since it is started exactly as a poll starts it.
 */
final class EagerActivityDispatch implements ServerInterceptor {
    private static final String COMPLETED =
            WorkflowServiceGrpc.getRespondWorkflowTaskCompletedMethod().getFullMethodName();

    private final TestWorkflowService service;
    private final EagerActivityQueues queues;

    EagerActivityDispatch(TestWorkflowService service, EagerActivityQueues queues) {
        this.service = service;
        this.queues = queues;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
        if (!call.getMethodDescriptor().getFullMethodName().equals(COMPLETED)) {
            return next.startCall(call, headers);
        }
        Completion<Q, R> completion = new Completion<>(call);
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
                next.startCall(completion, headers)) {
            @Override
            public void onMessage(Q message) {
                completion.request = (RespondWorkflowTaskCompletedRequest) message;
                super.onMessage(message);
            }

            @Override
            public void onHalfClose() {
                // the dev server handles a unary call here, on this thread: the capture sees the tasks it adds
                RespondWorkflowTaskCompletedRequest request = completion.request;
                int eager = request == null ? 0 : eagerRequested(request);
                if (eager == 0) {
                    super.onHalfClose();
                    return;
                }
                try (EagerActivityQueues.Capture capture = queues.open(request.getNamespace(),
                        eagerQueue(request), eager)) {
                    completion.capture = capture;
                    super.onHalfClose();
                } finally {
                    completion.capture = null;
                }
            }
        };
    }

    /** How many ScheduleActivityTask commands ask to be dispatched eagerly. */
    static int eagerRequested(RespondWorkflowTaskCompletedRequest request) {
        int eager = 0;
        for (Command command : request.getCommandsList()) {
            if (command.getCommandType() == CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK
                    && command.getScheduleActivityTaskCommandAttributes().getRequestEagerExecution()) {
                eager++;
            }
        }
        return eager;
    }

    /** The queue of the eager commands: the SDK marks only those on the worker's own queue, so all share one. */
    private static String eagerQueue(RespondWorkflowTaskCompletedRequest request) {
        for (Command command : request.getCommandsList()) {
            if (command.getCommandType() == CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK
                    && command.getScheduleActivityTaskCommandAttributes().getRequestEagerExecution()) {
                return command.getScheduleActivityTaskCommandAttributes().getTaskQueue().getName();
            }
        }
        throw new IllegalStateException("no eager command");
    }

    /** The reply of one completion: carries the tasks kept aside, started, when the dev server answers. */
    private final class Completion<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
        private RespondWorkflowTaskCompletedRequest request;
        private EagerActivityQueues.Capture capture;

        Completion(ServerCall<Q, R> call) {
            super(call);
        }

        @Override
        @SuppressWarnings("unchecked")
        public void sendMessage(R message) {
            if (capture != null && capture.kept() > 0 && message instanceof RespondWorkflowTaskCompletedResponse reply) {
                List<PollActivityTaskQueueResponse> tasks = capture.dispatch(service, request.getIdentity());
                if (!tasks.isEmpty()) {
                    message = (R) reply.toBuilder().addAllActivityTasks(tasks).build();
                }
            }
            super.sendMessage(message);
        }
    }
}
