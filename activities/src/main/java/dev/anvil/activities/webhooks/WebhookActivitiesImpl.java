package dev.anvil.activities.webhooks;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anvil.db.WebhookStore;
import dev.anvil.db.WebhookStore.Delivery;
import dev.anvil.db.WebhookStore.Webhook;
import dev.anvil.workflows.webhooks.WebhookActivities;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Sends webhook deliveries over HTTP: the body is built from the stored event (the same bytes on every attempt),
 * signed afresh with each attempt's timestamp, and each attempt's answer is written to webhook_attempts.
 * Redirects are not followed (the client's default): the admin-registered URL is the only place a delivery goes.
 */
public final class WebhookActivitiesImpl implements WebhookActivities {
    private static final int MAX_ERROR_CHARS = 500;

    private final WebhookStore store;
    private final HttpClient http;
    private final ObjectMapper json;
    private final Duration requestTimeout;
    private final Clock clock;

    public WebhookActivitiesImpl(WebhookStore store, HttpClient http, ObjectMapper json, Duration requestTimeout,
                                 Clock clock) {
        this.store = store;
        this.http = http;
        this.json = json;
        this.requestTimeout = requestTimeout;
        this.clock = clock;
    }

    @Override
    public void post(long deliveryId) {
        int attempt = Activity.getExecutionContext().getInfo().getAttempt();
        Delivery delivery = store.findDelivery(deliveryId).orElse(null);
        Webhook webhook = delivery == null ? null : store.find(delivery.webhookId()).orElse(null);
        if (delivery == null || webhook == null) {
            throw ApplicationFailure.newNonRetryableFailure("delivery " + deliveryId
                    + " has no webhook any more (it was deleted); nothing to send", GONE);
        }
        if (delivery.state().equals("delivered")) {
            return; // a retried activity whose earlier attempt got through before the worker lost it
        }
        byte[] body = body(delivery);
        Instant started = clock.instant();
        long timestamp = started.getEpochSecond();
        HttpRequest request = HttpRequest.newBuilder(URI.create(webhook.url()))
                .timeout(requestTimeout)
                .header("Content-Type", "application/json")
                .header("User-Agent", "Anvil-Webhooks")
                .header(WebhookSignature.EVENT_HEADER, delivery.eventType())
                .header(WebhookSignature.DELIVERY_HEADER, Long.toString(deliveryId))
                .header(WebhookSignature.TIMESTAMP_HEADER, Long.toString(timestamp))
                .header(WebhookSignature.SIGNATURE_HEADER, WebhookSignature.sign(webhook.secret(), timestamp, body))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        Integer status = null;
        String error;
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            status = response.statusCode();
            error = status / 100 == 2 ? null : "the receiver answered " + status + excerpt(response.body());
        } catch (IOException e) {
            error = "no answer from " + webhook.url() + ": " + (e.getMessage() == null ? e.getClass().getSimpleName()
                    : e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error = "interrupted while posting to " + webhook.url();
        }
        store.recordAttempt(deliveryId, attempt, status, error, started, clock.instant());
        if (error != null) {
            throw ApplicationFailure.newFailure("attempt " + attempt + " of delivery " + deliveryId + ": " + error,
                    "WebhookNotDelivered");
        }
        store.finish(deliveryId, "delivered", null);
    }

    @Override
    public void giveUp(long deliveryId, String error) {
        store.finish(deliveryId, "failed", error);
    }

    /** The envelope receivers get: which event, about what, when, and its data. */
    private byte[] body(Delivery delivery) {
        try {
            ObjectNode body = json.createObjectNode();
            body.put("event", delivery.eventId());
            body.put("type", delivery.eventType());
            body.put("subject", delivery.subject());
            body.put("createdAt", delivery.eventAt().toString());
            body.put("webhook", delivery.webhookId());
            body.put("delivery", delivery.id());
            body.set("data", json.readTree(delivery.payloadJson()));
            return json.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw ApplicationFailure.newNonRetryableFailure("event " + delivery.eventId() + " has a payload that is"
                    + " not JSON: " + e.getOriginalMessage(), "WebhookBadEvent");
        }
    }

    private static String excerpt(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        String trimmed = body.strip();
        return ": " + (trimmed.length() > MAX_ERROR_CHARS ? trimmed.substring(0, MAX_ERROR_CHARS) + "..." : trimmed);
    }
}
