package dev.anvil.cli;

import static dev.anvil.cli.ApiClient.segment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "webhooks", description = "Webhooks for registry events (role admin): create, list, get, delete, deliveries.",
        subcommands = {WebhooksCommand.Create.class, WebhooksCommand.List.class, WebhooksCommand.Get.class,
                WebhooksCommand.Delete.class, WebhooksCommand.Deliveries.class})
public class WebhooksCommand extends GroupCommand {

    @Command(name = "create", description = "Subscribe a URL to events; the signing secret is shown once, so keep it.")
    static class Create extends ApiCommand {
        @Option(names = "--url", required = true, description = "the http(s) URL events are POSTed to") String url;
        @Option(names = "--event", required = true, split = ",", paramLabel = "TYPE",
                description = "model.version.created, model.alias.moved, approval.requested, approval.decided, "
                        + "rollout.promoted, rollout.rolled_back, drift.detected (repeatable, or comma-separated)")
        java.util.List<String> events = new ArrayList<>();
        @Option(names = "--description", description = "what it is for") String description;
        @Mixin Output output;

        @Override
        protected void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.put("url", url);
            ArrayNode arr = body.putArray("events");
            events.forEach(arr::add);
            if (description != null) body.put("description", description);
            output.object(out(), api().post("/api/webhooks", body));
        }
    }

    @Command(name = "list", description = "Webhooks, newest first (never their secrets).")
    static class List extends ApiCommand {
        @Mixin Output output;

        @Override
        protected void run() {
            output.list(out(), api().get("/api/webhooks"), "id", "url", "events", "description", "createdBy", "createdAt");
        }
    }

    @Command(name = "get", description = "One webhook.")
    static class Get extends ApiCommand {
        @Parameters(paramLabel = "ID") String id;
        @Mixin Output output;

        @Override
        protected void run() {
            output.object(out(), api().get("/api/webhooks/" + segment(id)));
        }
    }

    @Command(name = "delete", description = "Delete a webhook and its delivery log.")
    static class Delete extends ApiCommand {
        @Parameters(paramLabel = "ID") String id;

        @Override
        protected void run() {
            api().delete("/api/webhooks/" + segment(id));
            out().println("deleted webhook " + id);
        }
    }

    @Command(name = "deliveries", description = "A webhook's delivery log, newest first: one row per attempt.")
    static class Deliveries extends ApiCommand {
        @Parameters(paramLabel = "ID") String id;
        @Option(names = "--limit", description = "at most this many deliveries (1-500, default 50)") Integer limit;
        @Mixin Output output;

        @Override
        protected void run() {
            JsonNode deliveries = api().get("/api/webhooks/" + segment(id) + "/deliveries"
                    + ApiClient.query(limit == null ? Map.of() : Map.of("limit", limit)));
            if (output.format() != Output.Format.table) {
                output.structured(out(), deliveries);
                return;
            }
            ArrayNode rows = ApiClient.JSON.createArrayNode();
            for (JsonNode d : deliveries) {
                if (d.path("attempts").isEmpty()) {
                    rows.add(row(d, null));
                }
                d.path("attempts").forEach(a -> rows.add(row(d, a)));
            }
            output.list(out(), rows, "delivery", "type", "state", "attempt", "statusCode", "error", "startedAt");
        }

        private static ObjectNode row(JsonNode delivery, JsonNode attempt) {
            ObjectNode row = ApiClient.JSON.createObjectNode();
            row.set("delivery", delivery.path("id"));
            row.set("type", delivery.path("type"));
            row.set("state", delivery.path("state"));
            if (attempt != null) {
                row.set("attempt", attempt.path("attempt"));
                row.set("statusCode", attempt.path("statusCode"));
                row.set("error", attempt.path("error"));
                row.set("startedAt", attempt.path("startedAt"));
            }
            return row;
        }
    }
}
