package dev.anvil.workflows.webhooks;

/**
 * One delivery to deliver (the row in webhook_deliveries names the event and the webhook) and how to retry it:
 * the first retry after {@code firstRetryMillis}, each wait twice the one before up to {@code maxRetryMillis},
 * at most {@code maxAttempts} attempts in all.
 */
public record WebhookDelivery(long deliveryId, long firstRetryMillis, long maxRetryMillis, int maxAttempts) {
    /** The workflow id of a delivery: one workflow per delivery, so starting it twice starts it once. */
    public static String workflowId(long deliveryId) {
        return "webhook-delivery-" + deliveryId;
    }
}
