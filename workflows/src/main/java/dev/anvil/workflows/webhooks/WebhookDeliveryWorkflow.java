package dev.anvil.workflows.webhooks;

import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * Delivers one registry event to one webhook: POSTs it, signed, until the receiver answers 2xx, retrying with
 * exponential back-off (durably: a worker restart resumes the waits), and records every attempt.
 */
@WorkflowInterface
public interface WebhookDeliveryWorkflow {
    /** Returns how the delivery ended: {@code delivered}, {@code failed} (attempts exhausted) or {@code gone}. */
    @WorkflowMethod
    String deliver(WebhookDelivery delivery);
}
