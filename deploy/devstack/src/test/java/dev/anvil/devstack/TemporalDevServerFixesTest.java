package dev.anvil.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.api.enums.v1.TaskQueueKind;
import io.temporal.api.taskqueue.v1.StickyExecutionAttributes;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueRequest;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueRequest;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedRequest;
import io.temporal.internal.testservice.TestServicesStarter;
import java.lang.reflect.Field;
import org.junit.jupiter.api.Test;

/** The two work-arounds {@link TemporalDevServer} installs on the Java dev server. */
class TemporalDevServerFixesTest {
    private static final TaskQueue STICKY = TaskQueue.newBuilder().setName("host:5f0c-random")
            .setKind(TaskQueueKind.TASK_QUEUE_KIND_STICKY).setNormalName("anvil-cpu").build();

    @Test
    void aStickyPollAndAStickyCompletionNameTheStickyQueueAfterTheSharedOne() {
        PollWorkflowTaskQueueRequest poll = (PollWorkflowTaskQueueRequest) StableStickyQueues.rename(
                PollWorkflowTaskQueueRequest.newBuilder().setTaskQueue(STICKY).setIdentity("w1").build());
        assertThat(poll.getTaskQueue().getName()).isEqualTo("anvil-cpu" + StableStickyQueues.SUFFIX);
        assertThat(poll.getTaskQueue().getKind()).isEqualTo(TaskQueueKind.TASK_QUEUE_KIND_STICKY);
        assertThat(poll.getIdentity()).isEqualTo("w1");

        RespondWorkflowTaskCompletedRequest completed = (RespondWorkflowTaskCompletedRequest) StableStickyQueues.rename(
                RespondWorkflowTaskCompletedRequest.newBuilder()
                        .setStickyAttributes(StickyExecutionAttributes.newBuilder().setWorkerTaskQueue(STICKY))
                        .build());
        assertThat(completed.getStickyAttributes().getWorkerTaskQueue().getName())
                .isEqualTo(poll.getTaskQueue().getName());
    }

    @Test
    void sharedQueuesAndOtherCallsAreLeftAlone() {
        PollWorkflowTaskQueueRequest shared = PollWorkflowTaskQueueRequest.newBuilder()
                .setTaskQueue(TaskQueue.newBuilder().setName("anvil-cpu").setKind(TaskQueueKind.TASK_QUEUE_KIND_NORMAL))
                .build();
        assertThat(StableStickyQueues.rename(shared)).isSameAs(shared);
        RespondWorkflowTaskCompletedRequest notSticky = RespondWorkflowTaskCompletedRequest.newBuilder().build();
        assertThat(StableStickyQueues.rename(notSticky)).isSameAs(notSticky);
        PollActivityTaskQueueRequest activities = PollActivityTaskQueueRequest.newBuilder()
                .setTaskQueue(STICKY).build();
        assertThat(StableStickyQueues.rename(activities)).isSameAs(activities);
    }

    @Test
    void theClocksLockRecordIsReplacedByABoundedOne() throws Exception {
        try (TestServicesStarter services = new TestServicesStarter(true, 0)) {
            assertThat(BoundedLockEvents.install(services)).as("installed on this temporal-testing version").isTrue();
            Field timerField = TestServicesStarter.class.getDeclaredField("selfAdvancingTimer");
            timerField.setAccessible(true);
            Object timer = timerField.get(services);
            Field events = timer.getClass().getDeclaredField("lockEvents");
            events.setAccessible(true);
            assertThat(events.get(timer)).isInstanceOf(BoundedLockEvents.class);
        }
    }

    @Test
    void theBoundedRecordKeepsTheNewestEventsAndReleasesADroppedOneQuietly() {
        BoundedLockEvents events = new BoundedLockEvents();
        Object first = new Object();
        events.add(first);
        for (int i = 0; i < BoundedLockEvents.LIMIT; i++) {
            events.add(new Object());
        }
        assertThat(events).hasSize(BoundedLockEvents.LIMIT).doesNotContain(first);
        assertThat(events.remove(first)).as("a dropped event counts as released").isTrue();
        Object last = new Object();
        events.add(last);
        assertThat(events.remove(last)).isTrue();
        assertThat(events).hasSize(BoundedLockEvents.LIMIT - 1).doesNotContain(last);
    }
}
