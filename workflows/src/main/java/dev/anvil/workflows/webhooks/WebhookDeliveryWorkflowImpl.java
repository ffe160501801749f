package dev.anvil.workflows.webhooks;

import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.workflow.Workflow;
import java.time.Duration;

public class WebhookDeliveryWorkflowImpl implements WebhookDeliveryWorkflow {

    /** Recording the end is a database write: retried briefly, then the workflow fails and says so. */
    private final WebhookActivities record = Workflow.newActivityStub(WebhookActivities.class,
            ActivityOptions.newBuilder()
                    .setStartToCloseTimeout(Duration.ofSeconds(30))
                    .setRetryOptions(RetryOptions.newBuilder()
                            .setInitialInterval(Duration.ofSeconds(1))
                            .setBackoffCoefficient(2)
                            .setMaximumInterval(Duration.ofSeconds(30))
                            .setMaximumAttempts(10)
                            .build())
                    .build());

    @Override
    public String deliver(WebhookDelivery delivery) {
        // The attempts are the activity's retries: Temporal keeps the back-off timer, so a restarted worker
        // resumes the wait rather than resending at once. The HTTP call itself times out well inside 60 s.
        WebhookActivities http = Workflow.newActivityStub(WebhookActivities.class, ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofSeconds(60))
                .setRetryOptions(RetryOptions.newBuilder()
                        .setInitialInterval(Duration.ofMillis(delivery.firstRetryMillis()))
                        .setBackoffCoefficient(2)
                        .setMaximumInterval(Duration.ofMillis(delivery.maxRetryMillis()))
                        .setMaximumAttempts(delivery.maxAttempts())
                        .setDoNotRetry(WebhookActivities.GONE)
                        .build())
                .build());
        try {
            http.post(delivery.deliveryId());
            return "delivered";
        } catch (ActivityFailure failure) {
            if (failure.getCause() instanceof ApplicationFailure app && WebhookActivities.GONE.equals(app.getType())) {
                return "gone";
            }
            record.giveUp(delivery.deliveryId(), lastError(failure));
            return "failed";
        }
    }

    private static String lastError(ActivityFailure failure) {
        Throwable cause = failure.getCause();
        if (cause instanceof ApplicationFailure app) {
            return app.getOriginalMessage();
        }
        return cause == null ? failure.getMessage() : cause.getMessage();
    }
}
