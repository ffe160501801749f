package dev.anvil.workflows.webhooks;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/** The HTTP and database side of a webhook delivery. */
@ActivityInterface
public interface WebhookActivities {
    /** The failure type of a delivery whose webhook was deleted meanwhile: nothing to send, nothing to retry. */
    String GONE = "WebhookGone";

    /**
     * One attempt: POSTs the event to the webhook's URL, signed, and records the attempt (its number is the
     * activity's attempt). A 2xx answer marks the delivery delivered; anything else (another status, a refused
     * or timed-out connection) fails the attempt, retryably; a deleted webhook fails it with {@link #GONE}.
     */
    @ActivityMethod(name = "PostWebhook")
    void post(long deliveryId);

    /** Marks the delivery failed with the last attempt's error, after the last attempt. */
    @ActivityMethod(name = "GiveUpWebhook")
    void giveUp(long deliveryId, String error);
}
