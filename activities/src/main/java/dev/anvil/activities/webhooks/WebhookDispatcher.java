package dev.anvil.activities.webhooks;

import dev.anvil.db.WebhookStore;
import dev.anvil.workflows.TaskQueues;
import dev.anvil.workflows.webhooks.WebhookDelivery;
import dev.anvil.workflows.webhooks.WebhookDeliveryWorkflow;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowOptions;
import java.time.Duration;

/**
 * Drains the outbox: starts one {@link WebhookDeliveryWorkflow} per pending delivery. The workflow id is the
 * delivery's, so a start repeated after a crash (or by a second process) starts nothing new.
 */
public final class WebhookDispatcher {
    private static final int BATCH = 50;

    private final WebhookStore store;
    private final WorkflowClient client;
    private final Duration firstRetry;
    private final Duration maxRetry;
    private final int maxAttempts;

    public WebhookDispatcher(WebhookStore store, WorkflowClient client, Duration firstRetry, Duration maxRetry,
                             int maxAttempts) {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("anvil.webhooks.max-attempts is " + maxAttempts + "; it must be at least 1");
        }
        this.store = store;
        this.client = client;
        this.firstRetry = firstRetry;
        this.maxRetry = maxRetry.compareTo(firstRetry) < 0 ? firstRetry : maxRetry;
        this.maxAttempts = maxAttempts;
    }

    /** Starts the workflows of the pending deliveries; returns how many it handed over. */
    public int dispatch() {
        int total = 0;
        int batch;
        do {
            batch = store.dispatchPending(BATCH, this::start);
            total += batch;
        } while (batch == BATCH);
        return total;
    }

    private void start(long deliveryId) {
        WebhookDeliveryWorkflow workflow = client.newWorkflowStub(WebhookDeliveryWorkflow.class,
                WorkflowOptions.newBuilder()
                        .setWorkflowId(WebhookDelivery.workflowId(deliveryId))
                        .setTaskQueue(TaskQueues.CPU)
                        .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
                        .build());
        try {
            WorkflowClient.start(workflow::deliver, new WebhookDelivery(deliveryId, firstRetry.toMillis(),
                    maxRetry.toMillis(), maxAttempts));
        } catch (WorkflowExecutionAlreadyStarted e) {
            // started before a crash or by another process: it is on its way
        }
    }
}
