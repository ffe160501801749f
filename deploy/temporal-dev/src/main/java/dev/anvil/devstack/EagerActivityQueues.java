package dev.anvil.devstack;

import io.grpc.stub.StreamObserver;
import io.temporal.api.common.v1.Priority;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueRequest;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueResponse;
import io.temporal.internal.testservice.TestServicesStarter;
import io.temporal.internal.testservice.TestWorkflowService;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.locks.Lock;

/**
 * The dev server's side of eager activity dispatch ({@link EagerActivityDispatch}): lets a workflow task
 * completion keep the activity tasks it schedules aside instead of offering them to pollers.
 *
 * <p>A real Temporal server hands a worker that asks for it ({@code request_eager_execution} on a
 * ScheduleActivityTask command) the new activity task in the reply to its workflow task completion: the activity
 * needs no poll. The dev server offers every new activity task to its queue's waiting pollers. {@link #install}
 * changes each activity queue of the store (through reflection: the classes are package-private there) so that,
 * while a {@link Capture} is open on the calling thread, the first tasks added to the capture's queue are kept
 * aside: no waiting poller is offered them, and they do not enter the queue's backlog. {@link Capture#dispatch}
 * then starts each through the dev server's own poll (the same bookkeeping as any poll: started event, timeouts,
 * task token), and {@link Capture#close} puts any task not dispatched back on its queue: none is lost.
 */
final class EagerActivityQueues {
    private static final ThreadLocal<Capture> CURRENT = new ThreadLocal<>();
    private static final String DISPATCH_SUFFIX = "@eager-dispatch";

    private final Constructor<?> newQueue;
    private final Method add;
    private final Field waiters;
    private final Field backlog;
    private final Method elementValue;
    private final Method elementPriority;
    private final Constructor<?> newQueueId;
    private final Method queueIdNamespace;
    private final Method queueIdName;

    private EagerActivityQueues(Class<?> queueClass, Class<?> queueIdClass) throws ReflectiveOperationException {
        newQueue = accessible(queueClass.getDeclaredConstructor());
        add = accessible(queueClass.getDeclaredMethod("add", Object.class, Priority.class));
        waiters = accessible(queueClass.getDeclaredField("waiters"));
        backlog = accessible(queueClass.getDeclaredField("backlog"));
        if (!LinkedList.class.equals(waiters.getType()) || !PriorityQueue.class.equals(backlog.getType())) {
            throw new NoSuchFieldException("TaskQueue is built otherwise");
        }
        Class<?> elementClass = Class.forName(queueClass.getName() + "$TaskQueueElement", false,
                queueClass.getClassLoader());
        elementValue = accessible(elementClass.getDeclaredMethod("getValue"));
        elementPriority = accessible(elementClass.getDeclaredMethod("getPriority"));
        newQueueId = accessible(queueIdClass.getDeclaredConstructor(String.class, String.class));
        queueIdNamespace = accessible(queueIdClass.getDeclaredMethod("getNamespace"));
        queueIdName = accessible(queueIdClass.getDeclaredMethod("getTaskQueueName"));
    }

    /**
     * Installs the capturing queues in {@code services}' store and returns them; empty, changing nothing, where this
     * temporal-test-server version is built otherwise (every activity is then polled, as before).
     */
    static java.util.Optional<EagerActivityQueues> install(TestServicesStarter services) {
        try {
            Object store = accessible(TestServicesStarter.class.getDeclaredField("workflowStore")).get(services);
            Field queues = accessible(store.getClass().getDeclaredField("activityTaskQueues"));
            Lock lock = (Lock) accessible(store.getClass().getDeclaredField("lock")).get(store);
            ClassLoader loader = store.getClass().getClassLoader();
            EagerActivityQueues installed = new EagerActivityQueues(
                    Class.forName("io.temporal.internal.testservice.TaskQueue", false, loader),
                    Class.forName("io.temporal.internal.testservice.TestWorkflowStore$TaskQueueId", false, loader));
            if (!Map.class.equals(queues.getType())) {
                return java.util.Optional.empty();
            }
            lock.lock();
            try {
                if (!((Map<?, ?>) queues.get(store)).isEmpty()) {
                    return java.util.Optional.empty(); // only on a store that has not matched anything yet
                }
                queues.set(store, installed.new Queues());
            } finally {
                lock.unlock();
            }
            return java.util.Optional.of(installed);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return java.util.Optional.empty();
        }
    }

    /**
     * Opens a capture on this thread: up to {@code limit} activity tasks added to {@code taskQueue} in
     * {@code namespace} until {@link Capture#dispatch} or {@link Capture#close} are kept aside.
     */
    Capture open(String namespace, String taskQueue, int limit) {
        Capture capture = new Capture(namespace, taskQueue, limit);
        CURRENT.set(capture);
        return capture;
    }

    private static <T extends java.lang.reflect.AccessibleObject> T accessible(T member) {
        member.setAccessible(true);
        return member;
    }

    private Object invoke(Method method, Object target, Object... args) {
        try {
            return method.invoke(target, args);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("dev server activity queue: " + e, e);
        }
    }

    /** Activity tasks kept aside for one workflow task completion. */
    final class Capture implements AutoCloseable {
        private final String namespace;
        private final String queue;
        private final int limit;
        private final List<Kept> kept = new ArrayList<>();
        private final String dispatchQueue;
        private Object dispatchTasks;
        private boolean capturing = true;

        private Capture(String namespace, String queue, int limit) {
            this.namespace = namespace;
            this.queue = queue;
            this.limit = limit;
            this.dispatchQueue = queue + DISPATCH_SUFFIX;
        }

        /** How many tasks are kept aside now. */
        int kept() {
            return kept.size();
        }

        /**
         * Starts the kept tasks as {@code identity}'s (through the dev server's poll) and returns them, to be sent
         * in the completion's reply. A task the dev server no longer has (its workflow moved on) is dropped as
         * its poll would drop it; one it fails to start otherwise goes back on its queue.
         */
        List<PollActivityTaskQueueResponse> dispatch(TestWorkflowService service, String identity) {
            capturing = false;
            List<PollActivityTaskQueueResponse> started = new ArrayList<>();
            while (!kept.isEmpty()) {
                Kept task = kept.remove(0);
                Reply reply = new Reply();
                try {
                    dispatchTasks = newQueue.newInstance();
                    invoke(add, dispatchTasks, task.value(), task.priority());
                    service.pollActivityTaskQueue(PollActivityTaskQueueRequest.newBuilder()
                            .setNamespace(namespace)
                            .setTaskQueue(TaskQueue.newBuilder().setName(dispatchQueue))
                            .setIdentity(identity)
                            .build(), reply);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    reply.error = e;
                } finally {
                    dispatchTasks = null;
                }
                if (reply.task != null && !reply.task.getTaskToken().isEmpty()) {
                    started.add(reply.task);
                } else if (reply.error != null) {
                    task.offer(); // not started: pollers get it as before
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
                task.offer();
            }
            kept.clear();
        }

        private boolean keeps(String namespace, String name) {
            return capturing && kept.size() < limit && queue.equals(name) && this.namespace.equals(namespace);
        }
    }

    /** A task kept aside, with the queue it was added to. */
    private record Kept(EagerActivityQueues queues, Object queue, Object value, Priority priority) {
        void offer() {
            queues.invoke(queues.add, queue, value, priority);
        }
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
     * The store's map of activity queues (used under the store's lock): each queue put in it gets the capturing
     * waiters and backlog below; during a dispatch, this thread's dispatch queue is answered.
     */
    private final class Queues extends HashMap<Object, Object> {
        @Override
        public Object get(Object key) {
            Capture capture = CURRENT.get();
            if (capture != null && capture.dispatchTasks != null && capture.dispatchQueue.equals(invoke(queueIdName, key))
                    && capture.namespace.equals(invoke(queueIdNamespace, key))) {
                return capture.dispatchTasks;
            }
            return super.get(key);
        }

        @Override
        public Object put(Object key, Object queue) {
            try {
                String namespace = (String) invoke(queueIdNamespace, key);
                String name = (String) invoke(queueIdName, key);
                @SuppressWarnings("unchecked")
                PriorityQueue<Object> original = (PriorityQueue<Object>) backlog.get(queue);
                waiters.set(queue, new Waiters(namespace, name));
                backlog.set(queue, new Backlog(original.comparator(), namespace, name, queue));
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("dev server activity queue: " + e, e);
            }
            return super.put(key, queue);
        }
    }

    /**
     * A queue's waiting polls: while this thread's capture keeps the queue's next task, no waiting poll is
     * offered it (the queue then puts it in its backlog, below).
     */
    private static final class Waiters extends LinkedList<Object> {
        private final String namespace;
        private final String name;

        Waiters(String namespace, String name) {
            this.namespace = namespace;
            this.name = name;
        }

        @Override
        public Object poll() {
            Capture capture = CURRENT.get();
            if (capture != null && capture.keeps(namespace, name)) {
                return null;
            }
            return super.poll();
        }
    }

    /** A queue's backlog: while this thread's capture keeps the queue's next task, it goes to the capture. */
    private final class Backlog extends PriorityQueue<Object> {
        private final String namespace;
        private final String name;
        private final Object queue;

        Backlog(Comparator<? super Object> order, String namespace, String name, Object queue) {
            super(order);
            this.namespace = namespace;
            this.name = name;
            this.queue = queue;
        }

        @Override
        public boolean offer(Object element) {
            Capture capture = CURRENT.get();
            if (capture != null && capture.keeps(namespace, name)) {
                capture.kept.add(new Kept(EagerActivityQueues.this, queue,
                        invoke(elementValue, element), (Priority) invoke(elementPriority, element)));
                return true;
            }
            return super.offer(element);
        }
    }
}
