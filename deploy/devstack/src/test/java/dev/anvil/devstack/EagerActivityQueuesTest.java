package dev.anvil.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.api.common.v1.Priority;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueResponse;
import io.temporal.internal.testservice.TestServicesStarter;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The capturing activity queues on the dev server's own store: what a capture keeps aside, and that nothing kept
 * is lost. The store's classes are package-private, so this test reaches them as the fix does, by reflection.
 */
class EagerActivityQueuesTest {

    /** One of the store's activity queues, made as the store makes them (new queue, put in its map). */
    private record Queue(Object queue) {
        static Queue of(TestServicesStarter services, String name) throws Exception {
            Object store = field(TestServicesStarter.class, "workflowStore").get(services);
            @SuppressWarnings("unchecked")
            Map<Object, Object> queues = (Map<Object, Object>) field(store.getClass(), "activityTaskQueues").get(store);
            ClassLoader loader = store.getClass().getClassLoader();
            Constructor<?> id = Class.forName("io.temporal.internal.testservice.TestWorkflowStore$TaskQueueId", false,
                    loader).getDeclaredConstructor(String.class, String.class);
            id.setAccessible(true);
            Object key = id.newInstance("default", name);
            Object queue = queues.get(key);
            if (queue == null) {
                Constructor<?> make = Class.forName("io.temporal.internal.testservice.TaskQueue", false, loader)
                        .getDeclaredConstructor();
                make.setAccessible(true);
                queue = make.newInstance();
                queues.put(key, queue);
            }
            return new Queue(queue);
        }

        void add(String activityId) throws Exception {
            Method add = queue.getClass().getDeclaredMethod("add", Object.class, Priority.class);
            add.setAccessible(true);
            add.invoke(queue, PollActivityTaskQueueResponse.newBuilder().setActivityId(activityId),
                    Priority.getDefaultInstance());
        }

        @SuppressWarnings("unchecked")
        Future<PollActivityTaskQueueResponse.Builder> poll() throws Exception {
            Method poll = queue.getClass().getDeclaredMethod("poll");
            poll.setAccessible(true);
            return (Future<PollActivityTaskQueueResponse.Builder>) poll.invoke(queue);
        }
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        Field field = type.getDeclaredField(name);
        field.setAccessible(true);
        return field;
    }

    @Test
    void aCaptureKeepsUpToItsLimitOnItsQueueAndGivesBackWhatItDidNotDispatch() throws Exception {
        try (TestServicesStarter services = new TestServicesStarter(true, 0)) {
            EagerActivityQueues queues = EagerActivityQueues.install(services).orElseThrow(() ->
                    new AssertionError("not installed on this temporal-test-server"));
            Queue mine = Queue.of(services, "q");
            Queue other = Queue.of(services, "other");
            Future<PollActivityTaskQueueResponse.Builder> waiting = mine.poll();
            assertThat(waiting.isDone()).as("an idle poller waits on the queue").isFalse();

            try (EagerActivityQueues.Capture capture = queues.open("default", "q", 1)) {
                mine.add("a");
                assertThat(capture.kept()).isEqualTo(1);
                assertThat(waiting.isDone()).as("the waiting poller is not offered a kept task").isFalse();
                mine.add("b");
                other.add("c");
                assertThat(capture.kept()).as("only one, and only from its own queue").isEqualTo(1);
                assertThat(waiting.isDone()).as("past the limit, offered as before").isTrue();
                assertThat(waiting.get().getActivityId()).isEqualTo("b");
                Future<PollActivityTaskQueueResponse.Builder> next = mine.poll();
                assertThat(next.isDone()).as("a is kept aside").isFalse();
                next.cancel(true); // a poller that gave up, so that the check below polls afresh
            }
            Future<PollActivityTaskQueueResponse.Builder> again = mine.poll();
            assertThat(again.isDone()).as("the closed capture put a back").isTrue();
            assertThat(again.get().getActivityId()).isEqualTo("a");
            assertThat(other.poll().get().getActivityId()).isEqualTo("c");
        }
    }

    @Test
    void withoutACaptureEveryTaskIsOfferedAndAStoreInUseIsLeftAlone() throws Exception {
        try (TestServicesStarter services = new TestServicesStarter(true, 0)) {
            assertThat(EagerActivityQueues.install(services)).isPresent();
            Queue queue = Queue.of(services, "q");
            queue.add("x");
            assertThat(queue.poll().get().getActivityId()).isEqualTo("x");
            assertThat(EagerActivityQueues.install(services)).as("not over a store that has matched").isEmpty();
        }
    }
}
