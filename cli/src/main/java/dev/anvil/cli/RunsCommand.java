package dev.anvil.cli;

import static dev.anvil.cli.ApiClient.segment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "runs", description = "List, inspect, watch, cancel and retry pipeline runs.",
        subcommands = {RunsCommand.List.class, RunsCommand.Get.class, RunsCommand.Watch.class,
                RunsCommand.Logs.class, RunsCommand.Cancel.class, RunsCommand.Retry.class})
public class RunsCommand extends GroupCommand {

    static final String[] TASK_COLUMNS = {"taskId", "attempt", "operator", "status", "startedAt", "finishedAt", "error"};

    /**
     * Why a queued run has not started ({@code GET /api/runs/{id}}'s {@code waiting}: its pipeline's
     * {@code max_active_runs} reached), or null when it does not wait.
     */
    static String waiting(JsonNode res) {
        JsonNode waiting = res.path("waiting");
        return waiting.isTextual() && !waiting.asText().isBlank() ? waiting.asText() : null;
    }

    /** " (why)" after a run's status where the answer says the run waits for a slot; empty otherwise. */
    static String waitingSuffix(JsonNode res) {
        String waiting = waiting(res);
        return waiting == null ? "" : " (" + waiting + ")";
    }

    /** How often a live view asks the server. */
    public static class WatchOptions {
        @Option(names = "--interval", paramLabel = "SECONDS", defaultValue = "2",
                description = "seconds between polls while watching (default 2)")
        double interval = 2;

        long intervalMillis() {
            if (interval <= 0) {
                throw CliException.usage("--interval must be above 0 seconds, got " + interval);
            }
            return Math.max(1, (long) (interval * 1000));
        }
    }

    @Command(name = "list", description = "Runs, newest first.")
    static class List extends ApiCommand {
        @Option(names = "--pipeline", description = "only this pipeline's runs") String pipeline;
        @Option(names = {"--status", "--state"}, description = "queued, running, success, failed or cancelled") String status;
        @Option(names = "--limit", defaultValue = "50", description = "runs per page, 1..1000 (default 50)") int limit;
        @Option(names = "--page", defaultValue = "0", description = "page number from 0") int page;
        @Mixin Output output;

        @Override
        protected void run() {
            Map<String, Object> q = new LinkedHashMap<>();
            q.put("pipeline", pipeline);
            q.put("status", status);
            q.put("limit", limit);
            q.put("page", page);
            output.list(out(), api().get("/api/runs" + ApiClient.query(q)),
                    "id", "pipeline", "status", "submittedBy", "createdAt", "finishedAt", "waiting");
        }
    }

    @Command(name = "get", description = "One run with every task attempt: status, timings, errors.")
    static class Get extends ApiCommand {
        @Parameters(paramLabel = "RUN") String id;
        @Mixin Output output;

        @Override
        protected void run() {
            JsonNode res = api().get("/api/runs/" + segment(id));
            if (output.format() != Output.Format.table) {
                output.structured(out(), res);
                return;
            }
            out().print(Output.keyValues(runFields(res), runFieldNames(res)));
            out().println();
            out().print(Output.table(res.path("tasks"), TASK_COLUMNS));
        }

        /** The run's fields, with the answer's {@code waiting} beside them when the run waits for a slot. */
        static JsonNode runFields(JsonNode res) {
            String waiting = waiting(res);
            if (waiting == null || !res.path("run").isObject()) {
                return res.path("run");
            }
            return ((ObjectNode) res.path("run").deepCopy()).put("waiting", waiting);
        }

        static String[] runFieldNames(JsonNode res) {
            return waiting(res) == null
                    ? new String[] {"id", "pipeline", "pipelineVersion", "status", "submittedBy", "createdAt",
                            "startedAt", "finishedAt", "error"}
                    : new String[] {"id", "pipeline", "pipelineVersion", "status", "waiting", "submittedBy",
                            "createdAt", "startedAt", "finishedAt", "error"};
        }
    }

    @Command(name = "watch", description = "A live view of the run's task states until it ends "
            + "(exit 0 on success, 4 when it fails or is cancelled).")
    static class Watch extends ApiCommand {
        @Parameters(paramLabel = "RUN") String id;
        @Mixin WatchOptions options;

        @Override
        public Integer call() {
            return new RunWatcher(api(), ctx(), options.intervalMillis()).watch(id);
        }
    }

    @Command(name = "logs", description = "A task attempt's log (through the Airflow API's task-instance logs).")
    static class Logs extends ApiCommand {
        @Parameters(index = "0", paramLabel = "RUN") String id;
        @Parameters(index = "1", paramLabel = "TASK") String task;
        @Option(names = "--try", paramLabel = "N", description = "the attempt (default: the latest)") Integer attempt;
        @Option(names = {"-f", "--follow"}, description = "keep printing new lines until the attempt ends") boolean follow;
        @Mixin WatchOptions watch;
        @Mixin Output output;

        @Override
        protected void run() throws InterruptedException {
            JsonNode run = api().get("/api/runs/" + segment(id));
            String pipeline = run.path("run").path("pipeline").asText();
            int tryNumber = attempt != null ? attempt : latestAttempt(run.path("tasks"), task);
            String path = "/api/v2/dags/" + segment(pipeline) + "/dagRuns/" + segment(id)
                    + "/taskInstances/" + segment(task) + "/logs/" + tryNumber + "?full_content=true";
            if (output.format() != Output.Format.table) {
                output.structured(out(), api().get(path));
                return;
            }
            int printed = 0;
            while (true) {
                JsonNode content = api().get(path).path("content");
                for (int i = printed; i < content.size(); i++) {
                    out().println(line(content.get(i)));
                }
                printed = Math.max(printed, content.size());
                out().flush();
                if (!follow || finished(api().get("/api/runs/" + segment(id)).path("tasks"), task, tryNumber)) {
                    return;
                }
                Thread.sleep(watch.intervalMillis());
            }
        }

        static String line(JsonNode line) {
            if (line.isTextual()) {
                return line.asText();
            }
            String ts = line.path("timestamp").asText("");
            String level = line.path("level").asText("");
            return (ts.isEmpty() ? "" : ts + " ") + (level.isEmpty() ? "" : level + " ") + line.path("event").asText(line.toString());
        }

        static boolean finished(JsonNode tasks, String task, int tryNumber) {
            for (JsonNode t : tasks) {
                if (task.equals(t.path("taskId").asText()) && t.path("attempt").asInt() == tryNumber) {
                    String status = t.path("status").asText();
                    return !status.equals("queued") && !status.equals("running");
                }
            }
            return false;
        }

        static int latestAttempt(JsonNode tasks, String task) {
            int latest = 0;
            for (JsonNode t : tasks) {
                if (task.equals(t.path("taskId").asText())) {
                    latest = Math.max(latest, t.path("attempt").asInt());
                }
            }
            if (latest == 0) {
                throw new CliException(ExitCodes.REFUSED, "task '" + task + "' has no attempt in this run yet");
            }
            return latest;
        }
    }

    @Command(name = "cancel", description = "Cancel a run: running tasks stop, queued ones never start.")
    static class Cancel extends ApiCommand {
        @Parameters(paramLabel = "RUN") String id;

        @Override
        protected void run() {
            JsonNode res = api().post("/api/runs/" + segment(id) + "/cancel", null);
            out().println("run " + id + " " + res.path("status").asText("cancelling"));
        }
    }

    @Command(name = "retry", description = "Re-run what failed (or, with --from, a task and everything downstream) "
            + "in the same run, as Airflow's clear.")
    static class Retry extends ApiCommand {
        @Parameters(paramLabel = "RUN") String id;
        @Option(names = "--from", paramLabel = "TASK", description = "re-run this task and everything downstream") String from;

        @Override
        protected void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            if (from != null) {
                body.put("from", from);
            }
            JsonNode res = api().post("/api/runs/" + segment(id) + "/retry", body);
            out().println("run " + id + " " + res.path("status").asText("retrying")
                    + waitingSuffix(res));
        }
    }
}
