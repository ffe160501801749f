package dev.anvil.cli;

import static dev.anvil.cli.ApiClient.segment;

import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "endpoints", description = "Serving endpoints: which model versions serve, with their weights.",
        subcommands = {EndpointsCommand.List.class, EndpointsCommand.Get.class, EndpointsCommand.Put.class,
                EndpointsCommand.Drift.class})
public class EndpointsCommand extends GroupCommand {

    @Command(name = "list", description = "Every endpoint with its stable and canary versions.")
    static class List extends ApiCommand {
        @Mixin Output output;

        @Override
        protected void run() {
            output.list(out(), api().get("/api/endpoints"), "name", "model", "stable.version", "stable.artifact",
                    "canary.version", "canary.weight", "public", "updatedAt");
        }
    }

    @Command(name = "get", description = "One endpoint.")
    static class Get extends ApiCommand {
        @Parameters(paramLabel = "NAME") String name;
        @Mixin Output output;

        @Override
        protected void run() {
            output.object(out(), api().get("/api/endpoints/" + segment(name)));
        }
    }

    @Command(name = "put", description = "Serve a model version under this name (role admin): creates the endpoint or "
            + "points it at another stable version.")
    static class Put extends ApiCommand {
        @Parameters(paramLabel = "NAME") String name;
        @Option(names = "--artifact", paramLabel = "SHA256", description = "an uploaded ONNX model (registered as the "
                + "next version of the model NAME, or of --model)") String artifact;
        @Option(names = "--model", description = "the registered model") String model;
        @Option(names = "--version", description = "the model's version") Integer version;
        @Option(names = "--alias", description = "the model's alias, e.g. production") String alias;
        @Option(names = "--public", negatable = true, description = "let anyone call inference without a token "
                + "(--no-public: the role invoker is needed); left out, it stays as it was") Boolean isPublic;
        @Option(names = "--break-glass", paramLabel = "REASON", description = "admin only: serve without the "
                + "evidence production needs, recording why") String breakGlass;
        @Mixin Output output;

        @Override
        protected void run() {
            if (artifact == null && model == null) {
                throw CliException.usage("endpoints put needs --artifact SHA256 or --model NAME");
            }
            ObjectNode body = ApiClient.JSON.createObjectNode();
            if (artifact != null) body.put("artifact", artifact);
            if (model != null) body.put("model", model);
            if (version != null) body.put("version", version);
            if (alias != null) body.put("alias", alias);
            if (isPublic != null) body.put("public", isPublic);
            if (breakGlass != null) body.putObject("break_glass").put("reason", breakGlass);
            output.object(out(), api().put("/api/endpoints/" + segment(name), body));
        }
    }

    @Command(name = "drift", description = "The endpoint's drift reports, newest first, a page at a time; with "
            + "--report ID, that one report in full.")
    static class Drift extends ApiCommand {
        @Parameters(paramLabel = "NAME") String name;
        @Option(names = "--report", paramLabel = "ID", description = "one report (its id from the list)") Long report;
        @Option(names = "--limit", defaultValue = "50", description = "reports per page, 1..1000 (default 50)") int limit;
        @Option(names = "--page", defaultValue = "0", description = "page number from 0") int page;
        @Mixin Output output;

        @Override
        protected void run() {
            String base = "/api/endpoints/" + segment(name) + "/drift";
            if (report != null) {
                output.object(out(), api().get(base + "/" + report));
                return;
            }
            java.util.Map<String, Object> q = new java.util.LinkedHashMap<>();
            q.put("limit", limit);
            q.put("page", page);
            output.list(out(), api().get(base + ApiClient.query(q)), "id", "version", "referenceDataset",
                    "referenceVersion", "drifted", "movedFeatures", "runId", "createdAt");
        }
    }
}
