package dev.anvil.api.webhooks;

import dev.anvil.activities.webhooks.WebhookSignature;
import dev.anvil.api.ApiDocumentFilter;
import dev.anvil.api.auth.AuditTrail;
import dev.anvil.api.auth.CurrentCaller;
import dev.anvil.api.auth.Roles;
import dev.anvil.api.problem.ProblemException;
import dev.anvil.db.RegistryEvents;
import dev.anvil.db.WebhookStore;
import dev.anvil.db.WebhookStore.Webhook;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.net.URISyntaxException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Webhook subscriptions (admins): a URL that registry events are POSTed to, signed with a secret shown once, in
 * the answer that makes the webhook. Its delivery log shows every attempt (see docs/webhooks.md).
 */
@Path("/api/webhooks")
@Tag(name = "webhooks")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class WebhookResource {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int MAX_URL_CHARS = 2048;

    @Inject WebhookStore webhooks;
    @Inject CurrentCaller caller;
    @Inject AuditTrail trail;

    public record WebhookRequest(String url, List<String> events, String description) {}

    /** A webhook as listed: never its secret. */
    public record WebhookView(String id, String url, List<String> events, String description, String createdBy,
                              Instant createdAt) {
        static WebhookView of(Webhook w) {
            return new WebhookView(w.id(), w.url(), w.events(), w.description(), w.createdBy(), w.createdAt());
        }
    }

    /** The answer that makes a webhook: its view and, this once, its secret. */
    public record CreatedWebhook(String id, String url, List<String> events, String description, String createdBy,
                                 Instant createdAt, String secret, String note) {}

    public record AttemptView(int attempt, Integer statusCode, String error, Instant startedAt, Instant finishedAt) {}

    public record DeliveryView(long id, long event, String type, String subject, String state, String error,
                               Instant createdAt, Instant finishedAt, List<AttemptView> attempts) {}

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed(Roles.ADMIN)
    @Operation(summary = "Subscribe a URL to registry events (role admin)", description = "events: one or more of "
            + "model.version.created, model.alias.moved, approval.requested, approval.decided, rollout.promoted, "
            + "rollout.rolled_back, drift.detected. The url must be http or https. The answer holds the signing "
            + "secret, shown this once: deliveries carry Anvil-Signature: sha256=HMAC-SHA256(secret, "
            + "'<Anvil-Timestamp>.<body>').")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = WebhookRequest.class), examples = @ExampleObject(name = "chat-ops",
            value = "{\"url\": \"https://hooks.example.com/anvil\", \"events\": [\"rollout.promoted\","
                    + " \"rollout.rolled_back\"], \"description\": \"release channel\"}")))
    @APIResponse(responseCode = "201", description = "the webhook, with its secret (shown once)")
    @APIResponse(responseCode = "400", description = "no url, a url that is not http(s), no events or an unknown"
            + " event type, or the body is not valid JSON")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role admin")
    @APIResponse(responseCode = "413", description = "the body is over 1 MiB")
    public Response create(WebhookRequest request) {
        if (request == null) {
            throw ProblemException.badRequest("url", "send a JSON object with 'url' and 'events'");
        }
        String url = checkUrl(request.url());
        List<String> events = checkEvents(request.events());
        String description = request.description() == null || request.description().isBlank() ? null
                : request.description().strip();
        String id = "wh_" + HexFormat.of().formatHex(randomBytes(8));
        String secret = WebhookSignature.newSecret();
        Webhook row = webhooks.create(id, url, events, secret, description, caller.name());
        trail.record("webhook.created", "webhook:" + id, "url", url, "events", events);
        return Response.status(201).entity(new CreatedWebhook(row.id(), row.url(), row.events(), row.description(),
                row.createdBy(), row.createdAt(), secret,
                "store the secret now: it signs every delivery and is not shown again")).build();
    }

    @GET
    @RolesAllowed(Roles.ADMIN)
    @Operation(summary = "List webhooks, newest first (role admin)", description = "Never their secrets.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "200", description = "the webhooks")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role admin")
    public List<WebhookView> list() {
        return webhooks.list().stream().map(WebhookView::of).toList();
    }

    @GET
    @Path("/{id}")
    @RolesAllowed(Roles.ADMIN)
    @Operation(summary = "Get a webhook (role admin)", description = "Never its secret.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "200", description = "the webhook")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role admin")
    @APIResponse(responseCode = "404", description = "no webhook with this id")
    public WebhookView get(@Parameter(description = "the webhook's id (wh_...)") @PathParam("id") String id) {
        return WebhookView.of(find(id));
    }

    @DELETE
    @Path("/{id}")
    @RolesAllowed(Roles.ADMIN)
    @Operation(summary = "Delete a webhook and its delivery log (role admin)",
            description = "Deliveries still retrying stop at their next attempt.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "204", description = "deleted")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role admin")
    @APIResponse(responseCode = "404", description = "no webhook with this id")
    public Response delete(@Parameter(description = "the webhook's id (wh_...)") @PathParam("id") String id) {
        Webhook row = find(id);
        if (webhooks.delete(id)) {
            trail.record("webhook.deleted", "webhook:" + id, "url", row.url());
        }
        return Response.noContent().build();
    }

    @GET
    @Path("/{id}/deliveries")
    @RolesAllowed(Roles.ADMIN)
    @Operation(summary = "A webhook's delivery log, newest first (role admin)", description = "Each delivery: the "
            + "event, its state (pending, dispatched, delivered, failed) and every attempt with the status code the "
            + "receiver answered (null when none came) or the error, and when it started and finished.")
    @SecurityRequirement(name = ApiDocumentFilter.BEARER)
    @APIResponse(responseCode = "200", description = "the deliveries with their attempts")
    @APIResponse(responseCode = "400", description = "limit is not between 1 and 500")
    @APIResponse(responseCode = "401", description = "no bearer token, or an unknown or revoked one")
    @APIResponse(responseCode = "403", description = "the caller lacks the role admin")
    @APIResponse(responseCode = "404", description = "no webhook with this id")
    public List<DeliveryView> deliveries(
            @Parameter(description = "the webhook's id (wh_...)") @PathParam("id") String id,
            @Parameter(description = "at most this many deliveries (1-500, default 50)") @QueryParam("limit")
            Integer limit) {
        int n = limit == null ? 50 : limit;
        if (n < 1 || n > 500) {
            throw ProblemException.badRequest("limit", "limit " + n + " must be between 1 and 500");
        }
        find(id);
        return webhooks.deliveries(id, n).stream().map(d -> new DeliveryView(d.id(), d.eventId(), d.eventType(),
                d.subject(), d.state(), d.error(), d.createdAt(), d.finishedAt(), webhooks.attempts(d.id()).stream()
                .map(a -> new AttemptView(a.attempt(), a.statusCode(), a.error(), a.startedAt(), a.finishedAt()))
                .toList())).toList();
    }

    private Webhook find(String id) {
        return webhooks.find(id).orElseThrow(() -> ProblemException.notFound("no webhook with id '" + id
                + "'; GET /api/webhooks lists them"));
    }

    /** Only http(s) URLs with a host: file:, ftp:, javascript: and the like never reach the delivery worker. */
    static String checkUrl(String url) {
        if (url == null || url.isBlank()) {
            throw ProblemException.badRequest("url", "'url' is required: the http(s) URL to POST events to");
        }
        String trimmed = url.strip();
        if (trimmed.length() > MAX_URL_CHARS) {
            throw ProblemException.badRequest("url", "url is " + trimmed.length() + " characters; at most "
                    + MAX_URL_CHARS);
        }
        URI uri;
        try {
            uri = new URI(trimmed);
        } catch (URISyntaxException e) {
            throw ProblemException.badRequest("url", "url '" + trimmed + "' is not a valid URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw ProblemException.badRequest("url", "url scheme '" + (scheme.isEmpty() ? "(none)" : scheme)
                    + "' is not allowed: webhooks are delivered over http or https only");
        }
        if (uri.getHost() == null || uri.getHost().isBlank()) {
            throw ProblemException.badRequest("url", "url '" + trimmed + "' names no host");
        }
        if (uri.getRawUserInfo() != null) {
            throw ProblemException.badRequest("url", "url must not carry credentials (user:password@); the"
                    + " signature authenticates Anvil to the receiver");
        }
        if (uri.getFragment() != null) {
            throw ProblemException.badRequest("url", "url must not have a fragment (#...)");
        }
        return trimmed;
    }

    private static List<String> checkEvents(List<String> events) {
        if (events == null || events.isEmpty()) {
            throw ProblemException.badRequest("events", "'events' must list at least one of " + RegistryEvents.TYPES);
        }
        LinkedHashSet<String> unique = new LinkedHashSet<>();
        for (String type : events) {
            if (type == null || !RegistryEvents.TYPES.contains(type)) {
                throw ProblemException.badRequest("events", "unknown event type '" + type + "'; expected one of "
                        + RegistryEvents.TYPES);
            }
            unique.add(type);
        }
        return List.copyOf(unique);
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        RANDOM.nextBytes(bytes);
        return bytes;
    }
}
