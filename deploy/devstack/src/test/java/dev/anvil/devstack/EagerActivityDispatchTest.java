package dev.anvil.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.RetryOptions;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueResponse;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedResponse;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.workflow.Async;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Eager activity dispatch on the dev server, with the Java SDK's real worker: the activity tasks a workflow task
 * schedules on the worker's own queue come back in the completion's reply (at most the SDK's three per workflow
 * task), the rest are polled, and a task dispatched eagerly is retried like any other.
 */
class EagerActivityDispatchTest {
    private static TemporalDevServer server;

    @BeforeAll
    static void start() {
        server = TemporalDevServer.startInProcess(Optional.empty(), "TEST_PORT");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @ActivityInterface
    public interface Steps {
        String step(String input);
    }

    @WorkflowInterface
    public interface Chain {
        @WorkflowMethod
        String run(String queue, int steps, boolean parallel);
    }

    public static class ChainImpl implements Chain {
        @Override
        public String run(String queue, int steps, boolean parallel) {
            Steps activities = Workflow.newActivityStub(Steps.class, ActivityOptions.newBuilder().setTaskQueue(queue)
                    .setStartToCloseTimeout(Duration.ofSeconds(3))
                    .setRetryOptions(RetryOptions.newBuilder().setInitialInterval(Duration.ofMillis(100)).build())
                    .build());
            StringBuilder out = new StringBuilder();
            if (parallel) {
                List<Promise<String>> all = new ArrayList<>();
                for (int i = 0; i < steps; i++) {
                    all.add(Async.function(activities::step, "s" + i));
                }
                all.forEach(p -> out.append(p.get()).append(' '));
            } else {
                for (int i = 0; i < steps; i++) {
                    out.append(activities.step("s" + i)).append(' ');
                }
            }
            return out.toString().trim();
        }
    }

    /** Counts, on the worker's side, activity tasks that came eagerly and those that came from polls. */
    static final class Exchanges implements ClientInterceptor {
        final AtomicInteger eager = new AtomicInteger();
        final AtomicInteger polled = new AtomicInteger();

        @Override
        public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                @Override
                public void start(Listener<R> listener, Metadata headers) {
                    super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                        @Override
                        public void onMessage(R message) {
                            if (message instanceof RespondWorkflowTaskCompletedResponse reply) {
                                eager.addAndGet(reply.getActivityTasksCount());
                            } else if (message instanceof PollActivityTaskQueueResponse poll
                                    && !poll.getTaskToken().isEmpty()) {
                                polled.incrementAndGet();
                            }
                            super.onMessage(message);
                        }
                    }, headers);
                }
            };
        }
    }

    private record Setup(WorkflowServiceStubs stubs, WorkerFactory factory, WorkflowClient client, Exchanges counts)
            implements AutoCloseable {
        @Override
        public void close() {
            factory.shutdownNow();
            stubs.shutdownNow();
        }
    }

    private static Setup worker(String queue, Steps steps) {
        Exchanges counts = new Exchanges();
        WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
                .setChannel(server.inProcessChannel()).setGrpcClientInterceptors(List.of(counts)).build());
        WorkflowClient client = WorkflowClient.newInstance(stubs);
        WorkerFactory factory = WorkerFactory.newInstance(client);
        Worker worker = factory.newWorker(queue);
        worker.registerWorkflowImplementationTypes(ChainImpl.class);
        worker.registerActivitiesImplementations(steps);
        factory.start();
        return new Setup(stubs, factory, client, counts);
    }

    private static String run(WorkflowClient client, String queue, String activityQueue, int steps, boolean parallel) {
        Chain chain = client.newWorkflowStub(Chain.class, WorkflowOptions.newBuilder().setTaskQueue(queue)
                .setWorkflowId("eager-" + UUID.randomUUID()).setWorkflowRunTimeout(Duration.ofMinutes(1)).build());
        return chain.run(activityQueue, steps, parallel);
    }

    @Test
    void aChainsActivitiesComeInTheCompletionsReplyNotFromPolls() {
        String queue = "eager-" + UUID.randomUUID();
        try (Setup setup = worker(queue, input -> input.toUpperCase())) {
            assertThat(run(setup.client(), queue, queue, 5, false)).isEqualTo("S0 S1 S2 S3 S4");
            assertThat(setup.counts().eager.get()).isEqualTo(5);
            assertThat(setup.counts().polled.get()).isZero();
        }
    }

    @Test
    void aFanOutGetsThreeEagerlyAndPollsTheRest() {
        String queue = "eager-" + UUID.randomUUID();
        try (Setup setup = worker(queue, input -> input + "!")) {
            assertThat(run(setup.client(), queue, queue, 7, true)).isEqualTo("s0! s1! s2! s3! s4! s5! s6!");
            assertThat(setup.counts().eager.get()).as("the SDK asks for at most three per workflow task").isEqualTo(3);
            assertThat(setup.counts().polled.get()).isEqualTo(4);
        }
    }

    @Test
    void activitiesOnAnotherQueueArePolledByThatQueuesWorker() {
        String queue = "eager-" + UUID.randomUUID();
        String other = "eager-other-" + UUID.randomUUID();
        try (Setup workflows = worker(queue, input -> "wrong worker");
             Setup activities = worker(other, input -> "other:" + input)) {
            assertThat(run(workflows.client(), queue, other, 2, false)).isEqualTo("other:s0 other:s1");
            assertThat(workflows.counts().eager.get()).isZero();
            assertThat(activities.counts().polled.get()).isEqualTo(2);
        }
    }

    @Test
    void anEagerTaskThatFailsIsRetriedThroughAPoll() {
        String queue = "eager-" + UUID.randomUUID();
        ConcurrentHashMap<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
        try (Setup setup = worker(queue, input -> {
            if (attempts.computeIfAbsent(input, k -> new AtomicInteger()).incrementAndGet() == 1) {
                throw new IllegalStateException("first attempt of " + input + " fails");
            }
            return input;
        })) {
            assertThat(run(setup.client(), queue, queue, 2, false)).isEqualTo("s0 s1");
            assertThat(setup.counts().eager.get()).as("first attempts").isEqualTo(2);
            assertThat(setup.counts().polled.get()).as("retries come from polls").isEqualTo(2);
        }
    }

    @Test
    void anEagerTaskWhoseWorkerDiesIsRetriedByAnotherWorkerAfterItsTimeout() throws Exception {
        String queue = "eager-" + UUID.randomUUID();
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        Setup dying = worker(queue, input -> {
            started.countDown();
            while (true) { // a hung worker: it notices nothing, interrupts included, until the test ends
                try {
                    release.await();
                    return "from the dead worker";
                } catch (InterruptedException e) {
                    // keep hanging
                }
            }
        });
        Chain chain = dying.client().newWorkflowStub(Chain.class, WorkflowOptions.newBuilder().setTaskQueue(queue)
                .setWorkflowId("eager-" + UUID.randomUUID()).setWorkflowRunTimeout(Duration.ofMinutes(1)).build());
        var execution = WorkflowClient.start(chain::run, queue, 1, false);
        assertThat(started.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(dying.counts().eager.get()).isEqualTo(1);
        // the worker holding the eagerly started task stops polling, and its activity never answers
        dying.factory().shutdownNow();
        try (Setup survivor = worker(queue, input -> "retried:" + input)) {
            String result = survivor.client().newUntypedWorkflowStub(execution.getWorkflowId())
                    .getResult(String.class);
            assertThat(result).as("retried after the 3 s start-to-close timeout").isEqualTo("retried:s0");
            assertThat(survivor.counts().polled.get()).isEqualTo(1);
        } finally {
            release.countDown(); // its late answer is refused by the dev server (the attempt timed out)
            dying.stubs().shutdownNow();
        }
    }
}
