package dev.anvil.cli;

import static dev.anvil.cli.ApiClient.segment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "pipelines", description = "Register, list, pause and trigger pipelines.",
        subcommands = {PipelinesCommand.Apply.class, PipelinesCommand.List.class, PipelinesCommand.Get.class,
                PipelinesCommand.Pause.class, PipelinesCommand.Unpause.class, PipelinesCommand.Trigger.class,
                PipelinesCommand.Backfill.class})
public class PipelinesCommand extends GroupCommand {

    @Command(name = "apply", description = "Register a spec (YAML or JSON) as the pipeline's next version; "
            + "the same text again makes no new version.")
    static class Apply extends ApiCommand {
        @Option(names = {"-f", "--file"}, required = true, paramLabel = "SPEC", description = "the spec file")
        Path file;

        @Option(names = "--name", description = "the pipeline's name (default: the spec's 'pipeline' field)")
        String name;

        @Mixin Output output;

        @Override
        protected void run() throws IOException {
            if (!Files.isRegularFile(file)) {
                throw CliException.usage("no spec file at " + file);
            }
            String text = Files.readString(file);
            String pipeline = name != null ? name : nameOf(text, file);
            boolean json = text.stripLeading().startsWith("{");
            JsonNode res = api().send("PUT", "/api/pipelines/" + segment(pipeline),
                    json ? "application/json" : "application/yaml", HttpRequest.BodyPublishers.ofString(text));
            output.object(out(), res, "name", "version", "paused", "registeredBy", "registeredAt");
        }

        static String nameOf(String text, Path file) {
            try {
                JsonNode spec = Output.YAML.readTree(text);
                String n = spec == null ? "" : spec.path("pipeline").asText("");
                if (n.isBlank()) {
                    throw CliException.usage(file + " has no 'pipeline:' name; add one or pass --name NAME");
                }
                return n;
            } catch (IOException e) {
                throw CliException.usage(file + " is not YAML or JSON: " + e.getMessage().lines().findFirst().orElse(""));
            }
        }
    }

    @Command(name = "list", description = "Registered pipelines, the newest version of each.")
    static class List extends ApiCommand {
        @Mixin Output output;

        @Override
        protected void run() {
            output.list(out(), api().get("/api/pipelines"), "name", "version", "paused", "registeredBy", "registeredAt");
        }
    }

    @Command(name = "get", description = "A pipeline's newest version, its tasks and its versions.")
    static class Get extends ApiCommand {
        @Parameters(paramLabel = "NAME") String name;
        @Mixin Output output;

        @Override
        protected void run() {
            output.object(out(), api().get("/api/pipelines/" + segment(name)));
        }
    }

    @Command(name = "pause", description = "Stop a pipeline's schedule from starting runs.")
    static class Pause extends ApiCommand {
        @Parameters(paramLabel = "NAME") String name;

        @Override
        protected void run() {
            JsonNode res = api().post("/api/pipelines/" + segment(name) + "/pause", null);
            out().println("pipeline " + name + " paused" + (res.path("paused").asBoolean(true) ? "" : "?"));
        }
    }

    @Command(name = "unpause", description = "Let a pipeline's schedule start runs again.")
    static class Unpause extends ApiCommand {
        @Parameters(paramLabel = "NAME") String name;

        @Override
        protected void run() {
            api().post("/api/pipelines/" + segment(name) + "/unpause", null);
            out().println("pipeline " + name + " unpaused");
        }
    }

    @Command(name = "trigger", description = "Start a run now; prints its id (with --watch, follows it to the end).")
    static class Trigger extends ApiCommand {
        @Parameters(paramLabel = "NAME") String name;

        @Option(names = {"-p", "--param"}, paramLabel = "KEY=VALUE", description = "a run parameter (repeatable); "
                + "the value is a string unless it is JSON (a number, true/false, an object or a list)")
        Map<String, String> params = new LinkedHashMap<>();

        @Option(names = "--no-cache", description = "re-run every task even where an earlier result matches")
        boolean noCache;

        @Option(names = {"-q", "--quiet"}, description = "print only the run id")
        boolean quiet;

        @Option(names = {"-w", "--watch"}, description = "then watch the run until it ends (exit 4 if it fails)")
        boolean watch;

        @Mixin RunsCommand.WatchOptions watchOptions;

        @Override
        public Integer call() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            ObjectNode p = body.putObject("params");
            params.forEach((k, v) -> p.set(k, paramValue(v)));
            if (noCache) {
                body.put("cache", false);
            }
            JsonNode res = api().post("/api/pipelines/" + segment(name) + "/runs", body);
            String run = res.path("run").asText();
            out().println(quiet ? run : "run " + run + " " + res.path("status").asText("queued")
                    + RunsCommand.waitingSuffix(res));
            out().flush();
            return watch ? new RunWatcher(api(), ctx(), watchOptions.intervalMillis()).watch(run) : ExitCodes.OK;
        }

        static JsonNode paramValue(String v) {
            String t = v.trim();
            if (t.startsWith("{") || t.startsWith("[") || t.equals("true") || t.equals("false")
                    || t.matches("-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?")) {
                try {
                    return ApiClient.JSON.readTree(t);
                } catch (IOException notJson) {
                    // fall through: keep it as the string it is
                }
            }
            return ApiClient.JSON.getNodeFactory().textNode(v);
        }
    }

    @Command(name = "backfill", description = "One run per schedule tick between two instants, each with its logical "
            + "date; --cancel drops the ticks not yet started.")
    static class Backfill extends ApiCommand {
        @Parameters(paramLabel = "NAME") String name;
        @Option(names = "--from", paramLabel = "INSTANT", description = "e.g. 2026-01-01T00:00:00Z") String from;
        @Option(names = "--to", paramLabel = "INSTANT", description = "e.g. 2026-01-07T00:00:00Z") String to;
        @Option(names = "--cancel", description = "drop the backfill's ticks not yet started") boolean cancel;
        @Mixin Output output;

        @Override
        protected void run() {
            String path = "/api/pipelines/" + segment(name) + "/backfill";
            if (cancel) {
                if (from != null || to != null) throw CliException.usage("--cancel takes no --from or --to");
                output.object(out(), api().delete(path));
                return;
            }
            if (from == null || to == null) {
                throw CliException.usage("a backfill needs --from and --to (instants such as 2026-01-01T00:00:00Z), or --cancel");
            }
            output.object(out(), api().post(path, Map.of("from", from, "to", to)));
        }
    }
}
