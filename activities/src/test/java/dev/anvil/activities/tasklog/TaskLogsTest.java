package dev.anvil.activities.tasklog;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.command.CommandOperator;
import dev.anvil.activities.command.CommandSettings;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.activities.operators.TaskLog;
import dev.anvil.storage.ObjectStore;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Attempt logs in the shared local stack's object store: tailed while a command runs, and bounded. */
class TaskLogsTest {
    private static LocalStackStores stores;
    private static ObjectStore objects;
    private static TaskLogs logs;

    @BeforeAll
    static void stores() throws Exception {
        stores = LocalStackStores.open("task_logs", "task-logs-test");
        objects = stores.objects();
        logs = new TaskLogs(objects, Duration.ofMillis(200), 1000, 64 * 1024, Clock.systemUTC());
    }

    @AfterAll
    static void close() {
        logs.close();
    }

    @Test
    void aRunningCommandsLogCanBeTailedWithAnOffsetAndReadAfter() throws Exception {
        String runId = "run-" + UUID.randomUUID();
        stores.runs().create(runId, "test", "{}", "tester");
        long taskRunId = stores.taskRuns().start(runId, "train", 1, "command", "{}");
        AttemptLog log = logs.open(runId, "train", 1);
        CommandOperator op = new CommandOperator(stores.artifactIO(new ObjectMapper()), CommandSettings.fromEnvironment(
                Map.of("ANVIL_WORKER_COMMANDS", "true", "PATH", System.getenv("PATH"))));
        TaskContext context = new TaskContext() {
            public String runId() { return runId; }
            public String taskId() { return "train"; }
            public long taskRunId() { return taskRunId; }
            public void heartbeat(Object progress) { }
            public TaskLog log() { return log; }
        };
        CompletableFuture<Map<String, Object>> running = CompletableFuture.supplyAsync(() -> {
            try {
                return op.run(context, Map.of("command", List.of("bash", "-c", "echo epoch 1; sleep 4; echo epoch 2")));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });

        String name = TaskLogs.name(runId, "train", 1);
        long offset = 0;
        String seen = "";
        for (int i = 0; i < 100 && !seen.contains("epoch 1"); i++) {
            Thread.sleep(100);
            var slice = objects.readLog(name, 0);
            if (slice.isPresent()) {
                seen = new String(slice.get().bytes(), StandardCharsets.UTF_8);
                offset = slice.get().size();
            }
        }
        assertThat(running).as("the command still runs").isNotDone();
        assertThat(seen).contains("\"event\":\"epoch 1\"").contains("\"logger\":\"stdout\"").contains("\"timestamp\":")
                .doesNotContain("\"event\":\"epoch 2\"");

        running.get();
        log.close();
        String rest = new String(objects.readLog(name, offset).orElseThrow().bytes(), StandardCharsets.UTF_8);
        assertThat(rest).contains("\"event\":\"epoch 2\"").doesNotContain("\"event\":\"epoch 1\"");
        assertThat(objects.readLog(name, 1_000_000).orElseThrow().bytes()).isEmpty();
        for (String line : rest.split("\n")) {
            assertThat(new ObjectMapper().readTree(line).fieldNames()).toIterable()
                    .containsExactly("timestamp", "level", "event", "logger");
        }
        assertThat(objects.readLog("run-none/train/1.ndjson", 0)).isEmpty();
    }

    @Test
    void aLogPastItsBoundIsCutWithAMarkerAndKeepsItsClosingLines() throws Exception {
        String runId = "run-" + UUID.randomUUID();
        try (AttemptLog log = logs.open(runId, "train", 2)) {
            for (int i = 0; i < 5000; i++) {
                log.line("info", "stdout", "line " + i + " " + "x".repeat(100));
            }
            log.info("try 2 ended success");
        }
        byte[] stored = objects.readLog(TaskLogs.name(runId, "train", 2), 0).orElseThrow().bytes();
        String text = new String(stored, StandardCharsets.UTF_8);
        assertThat(stored.length).isLessThanOrEqualTo(64 * 1024 + AttemptLog.RESERVE_BYTES);
        assertThat(text).contains("log truncated: it reached its bound of 65536 bytes")
                .contains("try 2 ended success").contains("lines were dropped past the log's bound")
                .contains("line 0 ").doesNotContain("line 4999 ");
    }
}
