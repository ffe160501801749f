package io.temporal.internal.testservice;

import io.grpc.stub.StreamObserver;
import io.temporal.api.common.v1.Priority;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueRequest;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueResponse;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.Lock;

/**
 * Anvil's bridge into the Java dev server's activity matching, for eager activity dispatch (used by
 * {@code dev.anvil.devstack.EagerActivityDispatch}). It lives in the dev server's package because the queues it
 * reaches are package-private there.
 *
 * <p>A real Temporal server hands a worker that asks for it ({@code request_eager_execution} on a
 * ScheduleActivityTask command) the new activity task in the reply to its workflow task completion: the activity
 * needs no poll. The dev server puts every new activity task on its queue, where an idle poller takes it.
 * {@link #install} replaces the store's activity queues with ones that, while a {@link Capture} is open on the
 * calling thread, keep the first tasks added to the capture's queue aside instead of offering them to pollers;
 * {@link Capture#dispatch} then starts each through the dev server's own poll (the same bookkeeping as any
 * poll: started event, timeouts, task token), and {@link Capture#close} puts any task not dispatched back on
 * its queue, so no task is lost whatever happened in between.
 */
public final class EagerActivityQueues {
    private static final ThreadLocal<Capture> CURRENT = new ThreadLocal<>();

    private EagerActivityQueues() {
    }

    /**
     * Installs the capturing queues in {@code services}' store. Returns false, and changes nothing, where this
     * temporal-test-server version is built otherwise (the dev server then works as before: every activity polled).
     */
    public static boolean install(TestServicesStarter services) {
        try {
            Object store = field(TestServicesStarter.class, "workflowStore").get(services);
            Field queues = field(store.getClass(), "activityTaskQueues");
            Lock lock = (Lock) field(store.getClass(), "lock").get(store);
            if (!Map.class.isAssignableFrom(queues.getType())) {
                return false;
            }
            lock.lock();
            try {
                @SuppressWarnings("unchecked")
                Map<TestWorkflowStore.TaskQueueId, TaskQueue<PollActivityTaskQueueResponse.Builder>> existing =
                        (Map<TestWorkflowStore.TaskQueueId, TaskQueue<PollActivityTaskQueueResponse.Builder>>)
                                queues.get(store);
                if (!existing.isEmpty()) {
                    return false; // only on a store that has not matched anything yet
                }
                queues.set(store, new CapturingQueues());
            } finally {
                lock.unlock();
            }
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Opens a capture on this thread: up to {@code limit} activity tasks added to {@code taskQueue} in
     * {@code namespace} until {@link Capture#dispatch} or {@link Capture#close} are kept aside.
     */
    public static Capture open(String namespace, String taskQueue, int limit) {
        Capture capture = new Capture(new TestWorkflowStore.TaskQueueId(namespace, taskQueue), limit);
        CURRENT.set(capture);
        return capture;
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        Field field = type.getDeclaredField(name);
        field.setAccessible(true);
        return field;
    }

    /** Activity tasks kept aside for one workflow task completion. */
    public static final class Capture implements AutoCloseable {
        private final TestWorkflowStore.TaskQueueId queue;
        private final int limit;
        private final List<Kept> kept = new ArrayList<>();
        /** The queue the dev server's poll reads while {@link #dispatch} runs: the kept tasks, nothing else. */
        private final TestWorkflowStore.TaskQueueId dispatchQueue;
        private final TaskQueue<PollActivityTaskQueueResponse.Builder> dispatchTasks = new TaskQueue<>();
        private boolean capturing = true;

        private Capture(TestWorkflowStore.TaskQueueId queue, int limit) {
            this.queue = queue;
            this.limit = limit;
            this.dispatchQueue = new TestWorkflowStore.TaskQueueId(queue.getNamespace(),
                    queue.getTaskQueueName() + "@eager-dispatch");
        }

        /** How many tasks are kept aside now. */
        public int kept() {
            return kept.size();
        }

        /**
         * Starts the kept tasks as {@code identity}'s (through the dev server's poll) and returns them, to be sent
         * in the completion's reply. A task the dev server no longer has (its workflow moved on) is dropped as
         * its poll would drop it; one it fails to start otherwise goes back on its queue.
         */
        public List<PollActivityTaskQueueResponse> dispatch(TestWorkflowService service, String identity) {
            capturing = false;
            List<PollActivityTaskQueueResponse> started = new ArrayList<>();
            while (!kept.isEmpty()) {
                Kept task = kept.remove(0);
                dispatchTasks.add(task.task(), task.priority());
                PollActivityTaskQueueRequest poll = PollActivityTaskQueueRequest.newBuilder()
                        .setNamespace(queue.getNamespace())
                        .setTaskQueue(io.temporal.api.taskqueue.v1.TaskQueue.newBuilder()
                                .setName(dispatchQueue.getTaskQueueName()))
                        .setIdentity(identity)
                        .build();
                Reply reply = new Reply();
                service.pollActivityTaskQueue(poll, reply);
                if (reply.error != null) {
                    task.queue().offer(task.task(), task.priority()); // not started: pollers get it as before
                } else if (reply.task != null && !reply.task.getTaskToken().isEmpty()) {
                    started.add(reply.task);
                }
            }
            return started;
        }

        /** Ends the capture on this thread; a task kept aside and not dispatched goes back on its queue. */
        @Override
        public void close() {
            capturing = false;
            if (CURRENT.get() == this) {
                CURRENT.remove();
            }
            for (Kept task : kept) {
                task.queue().offer(task.task(), task.priority());
            }
            kept.clear();
        }

        private boolean keeps(TestWorkflowStore.TaskQueueId id) {
            return capturing && kept.size() < limit && queue.equals(id);
        }
    }

    private record Kept(CapturingQueue queue, PollActivityTaskQueueResponse.Builder task, Priority priority) {
    }

    /** Receives the dev server's answer to a poll made on this thread. */
    private static final class Reply implements StreamObserver<PollActivityTaskQueueResponse> {
        private PollActivityTaskQueueResponse task;
        private Throwable error;

        @Override
        public void onNext(PollActivityTaskQueueResponse value) {
            task = value;
        }

        @Override
        public void onError(Throwable t) {
            error = t;
        }

        @Override
        public void onCompleted() {
        }
    }

    /**
     * The store's map of activity queues (read under the store's lock): a queue is made on first use, as the
     * store does, but capturing; during a dispatch, the dispatch queue of this thread's capture is answered.
     */
    private static final class CapturingQueues
            extends HashMap<TestWorkflowStore.TaskQueueId, TaskQueue<PollActivityTaskQueueResponse.Builder>> {
        @Override
        public TaskQueue<PollActivityTaskQueueResponse.Builder> get(Object key) {
            Capture capture = CURRENT.get();
            if (capture != null && !capture.capturing && capture.dispatchQueue.equals(key)) {
                return capture.dispatchTasks;
            }
            TaskQueue<PollActivityTaskQueueResponse.Builder> queue = super.get(key);
            if (queue == null && key instanceof TestWorkflowStore.TaskQueueId id) {
                queue = new CapturingQueue(id);
                super.put(id, queue);
            }
            return queue;
        }
    }

    /** An activity queue that lets this thread's open capture keep a new task aside. */
    private static final class CapturingQueue extends TaskQueue<PollActivityTaskQueueResponse.Builder> {
        private final TestWorkflowStore.TaskQueueId id;

        CapturingQueue(TestWorkflowStore.TaskQueueId id) {
            this.id = id;
        }

        @Override
        void add(PollActivityTaskQueueResponse.Builder element) {
            add(element, element.getPriority());
        }

        @Override
        void add(PollActivityTaskQueueResponse.Builder element, Priority priority) {
            Capture capture = CURRENT.get();
            if (capture != null && capture.keeps(id)) {
                capture.kept.add(new Kept(this, element, priority));
                return;
            }
            super.add(element, priority);
        }

        /** Offers a task to pollers, past any capture. */
        void offer(PollActivityTaskQueueResponse.Builder element, Priority priority) {
            super.add(element, priority);
        }
    }
}
