package dev.anvil.cli;

import static dev.anvil.cli.ApiClient.segment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "rollouts", description = "Canary rollouts: start one, see its state, steer it.",
        subcommands = {RolloutsCommand.List.class, RolloutsCommand.Start.class, RolloutsCommand.Status.class, RolloutsCommand.Watch.class,
                RolloutsCommand.Pause.class,
                RolloutsCommand.Resume.class, RolloutsCommand.Promote.class, RolloutsCommand.Abort.class})
public class RolloutsCommand extends GroupCommand {

    @Command(name = "list", description = "Rollouts, newest first, a page at a time.")
    static class List extends ApiCommand {
        @Option(names = "--endpoint", description = "only rollouts on this endpoint") String endpoint;
        @Option(names = "--state", description = "running, paused, promoted, rolled_back, aborted or failed") String state;
        @Option(names = "--limit", defaultValue = "50", description = "rollouts per page, 1..1000 (default 50)") int limit;
        @Option(names = "--page", defaultValue = "0", description = "page number from 0") int page;
        @Mixin Output output;

        @Override
        protected void run() {
            java.util.Map<String, Object> q = new java.util.LinkedHashMap<>();
            q.put("endpoint", endpoint);
            q.put("state", state);
            q.put("limit", limit);
            q.put("page", page);
            output.list(out(), api().get("/api/rollouts" + ApiClient.query(q)),
                    "id", "endpoint", "model", "stableVersion", "candidateVersion", "state", "weight", "startedAt",
                    "finishedAt");
        }
    }

    @Command(name = "start", description = "Start a canary rollout of a candidate model on an endpoint "
            + "(role submitter or admin). Prints the rollout id.")
    static class Start extends ApiCommand {
        @Option(names = "--endpoint", description = "the endpoint") String endpoint;
        @Option(names = "--model", paramLabel = "SHA256", description = "the candidate model's sha256") String model;
        @Option(names = "--steps", split = ",", paramLabel = "PERCENT", description = "traffic steps, e.g. 5,25,50,100") java.util.List<Integer> steps = new ArrayList<>();
        @Option(names = "--interval", description = "time per step, e.g. 10m") String interval;
        @Option(names = "--min-requests", description = "requests a step needs before it is judged") Integer minRequests;
        @Option(names = "--max-error-rate", description = "analysis: the highest canary error rate") Double maxErrorRate;
        @Option(names = "--max-p95-latency-ratio", description = "analysis: canary p95 over stable p95 at most") Double maxP95;
        @Option(names = {"-f", "--file"}, paramLabel = "SPEC", description = "the whole rollout spec as JSON or YAML "
                + "(the options above override its fields)") Path file;
        @Mixin Output output;

        @Override
        protected void run() throws IOException {
            ObjectNode body = file == null ? ApiClient.JSON.createObjectNode() : readSpec(file);
            if (endpoint != null) body.put("endpoint", endpoint);
            if (model != null) body.put("model", model);
            if (!steps.isEmpty()) {
                var arr = body.putArray("steps");
                steps.forEach(arr::add);
            }
            if (interval != null) body.put("interval", interval);
            if (minRequests != null) body.put("min_requests", minRequests);
            if (maxErrorRate != null || maxP95 != null) {
                ObjectNode analysis = body.has("analysis") && body.get("analysis").isObject()
                        ? (ObjectNode) body.get("analysis") : body.putObject("analysis");
                if (maxErrorRate != null) analysis.put("max_error_rate", maxErrorRate);
                if (maxP95 != null) analysis.put("max_p95_latency_ratio", maxP95);
            }
            if (!body.hasNonNull("endpoint") || !body.hasNonNull("model")) {
                throw CliException.usage("a rollout needs --endpoint NAME and --model SHA256 (or both in --file)");
            }
            output.object(out(), api().post("/api/rollouts", body));
        }

        private static ObjectNode readSpec(Path file) throws IOException {
            if (!Files.isRegularFile(file)) throw CliException.usage("no rollout spec at " + file);
            JsonNode node = Output.YAML.readTree(Files.readString(file));
            if (node == null || !node.isObject()) throw CliException.usage(file + " must hold one object");
            return (ObjectNode) node;
        }
    }

    @Command(name = "status", description = "A rollout's record and, while it runs, its live state and analyses.")
    static class Status extends ApiCommand {
        @Parameters(paramLabel = "ID") String id;
        @Mixin Output output;

        @Override
        protected void run() {
            output.object(out(), api().get("/api/rollouts/" + segment(id)));
        }
    }

    @Command(name = "watch", description = "Print the rollout's state, step and canary weight as they change, until it "
            + "ends (exit 0 when promoted, 4 when rolled back, aborted or failed).")
    static class Watch extends ApiCommand {
        static final java.util.List<String> TERMINAL = java.util.List.of("promoted", "rolled_back", "aborted", "failed");

        @Parameters(paramLabel = "ID") String id;
        @Mixin RunsCommand.WatchOptions options;

        @Override
        public Integer call() throws InterruptedException {
            String last = null;
            while (true) {
                JsonNode res = api().get("/api/rollouts/" + segment(id));
                JsonNode live = res.path("live");
                String state = live.isObject() ? live.path("state").asText() : res.path("rollout").path("state").asText("?");
                String line = "rollout " + id + " " + state + (live.isObject()
                        ? "  step " + stepNumber(live) + "/" + live.path("steps").asInt() + "  canary weight "
                        + live.path("weight").asInt() + "%" + (live.path("pausedReason").isTextual()
                        ? "  paused: " + live.path("pausedReason").asText() : "") : "");
                if (!line.equals(last)) {
                    out().println(java.time.LocalTime.now().withNano(0) + "  " + line);
                    out().flush();
                    last = line;
                }
                String recorded = res.path("rollout").path("state").asText("");
                if (!live.isObject() && TERMINAL.contains(recorded)) {
                    return recorded.equals("promoted") ? ExitCodes.OK : ExitCodes.RUN_FAILED;
                }
                Thread.sleep(options.intervalMillis());
            }
        }

        /**
         * The live step counted from 1, as the UI's rollout page and the docs count ("step 1 of 4"); the API's
         * {@code live.step} is the index of the current weight in {@code steps}, from 0, and one past the last
         * while a rollout whose every step passed promotes: that reads as the last step.
         */
        static int stepNumber(JsonNode live) {
            return Math.min(live.path("step").asInt() + 1, live.path("steps").asInt());
        }
    }

    abstract static class Control extends ApiCommand {
        @Parameters(paramLabel = "ID") String id;
        @Option(names = {"-m", "--reason"}, description = "why (recorded with the change)") String reason;
        @Mixin Output output;

        abstract String verb();

        @Override
        protected void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            if (reason != null) body.put("reason", reason);
            output.object(out(), api().post("/api/rollouts/" + segment(id) + "/" + verb(), body));
        }
    }

    @Command(name = "pause", description = "Hold the rollout at its weight (role reviewer or admin).")
    static class Pause extends Control {
        String verb() { return "pause"; }
    }

    @Command(name = "resume", description = "Continue a paused rollout (role reviewer or admin).")
    static class Resume extends Control {
        String verb() { return "resume"; }
    }

    @Command(name = "promote", description = "Send all traffic to the canary now (role reviewer or admin).")
    static class Promote extends Control {
        String verb() { return "promote"; }
    }

    @Command(name = "abort", description = "Roll back to stable now (role reviewer or admin).")
    static class Abort extends Control {
        String verb() { return "abort"; }
    }
}
