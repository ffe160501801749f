package io.temporal.internal.testservice;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.api.workflowservice.v1.PollActivityTaskQueueResponse;
import java.lang.reflect.Field;
import java.util.Map;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The capturing activity queues: what a capture keeps aside, and that nothing kept is lost. */
class EagerActivityQueuesTest {

    @SuppressWarnings("unchecked")
    private static Map<TestWorkflowStore.TaskQueueId, TaskQueue<PollActivityTaskQueueResponse.Builder>> queues(
            TestServicesStarter services) throws Exception {
        Field store = TestServicesStarter.class.getDeclaredField("workflowStore");
        store.setAccessible(true);
        Object workflowStore = store.get(services);
        Field queues = workflowStore.getClass().getDeclaredField("activityTaskQueues");
        queues.setAccessible(true);
        return (Map<TestWorkflowStore.TaskQueueId, TaskQueue<PollActivityTaskQueueResponse.Builder>>)
                queues.get(workflowStore);
    }

    private static PollActivityTaskQueueResponse.Builder task(String id) {
        return PollActivityTaskQueueResponse.newBuilder().setActivityId(id);
    }

    @Test
    void aCaptureKeepsUpToItsLimitOnItsQueueAndGivesBackWhatItDidNotDispatch() throws Exception {
        try (TestServicesStarter services = new TestServicesStarter(true, 0)) {
            assertThat(EagerActivityQueues.install(services)).as("installed on this temporal-test-server").isTrue();
            var queues = queues(services);
            var mine = new TestWorkflowStore.TaskQueueId("default", "q");
            var other = new TestWorkflowStore.TaskQueueId("default", "other");
            TaskQueue<PollActivityTaskQueueResponse.Builder> queue = queues.get(mine);
            assertThat(queue).as("made on first use, as the store does").isNotNull().isSameAs(queues.get(mine));

            try (EagerActivityQueues.Capture capture = EagerActivityQueues.open("default", "q", 1)) {
                queue.add(task("a"));
                queue.add(task("b"));
                queues.get(other).add(task("c"));
                assertThat(capture.kept()).as("only one, and only from its own queue").isEqualTo(1);
                Future<PollActivityTaskQueueResponse.Builder> first = queue.poll();
                assertThat(first.isDone()).isTrue();
                assertThat(first.get().getActivityId()).as("past the limit, offered as before").isEqualTo("b");
                Future<PollActivityTaskQueueResponse.Builder> waiting = queue.poll();
                assertThat(waiting.isDone()).as("a is kept aside").isFalse();
                waiting.cancel(true); // a poller that gave up, so that the check below polls afresh
            }
            // the closed capture put "a" back
            Future<PollActivityTaskQueueResponse.Builder> again = queues.get(mine).poll();
            assertThat(again.isDone()).isTrue();
            assertThat(again.get().getActivityId()).isEqualTo("a");
            assertThat(queues.get(other).poll().get().getActivityId()).isEqualTo("c");
        }
    }

    @Test
    void withoutACaptureEveryTaskIsOffered() throws Exception {
        try (TestServicesStarter services = new TestServicesStarter(true, 0)) {
            assertThat(EagerActivityQueues.install(services)).isTrue();
            var queue = queues(services).get(new TestWorkflowStore.TaskQueueId("default", "q"));
            queue.add(task("x"));
            assertThat(queue.poll().get().getActivityId()).isEqualTo("x");
            assertThat(EagerActivityQueues.install(services)).as("not over a store that has matched").isFalse();
        }
    }
}
