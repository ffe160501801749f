package dev.anvil.activities.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.activities.operators.TaskLog;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.LineageEdge;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.Relation;
import dev.anvil.db.TaskRunStore;
import dev.anvil.storage.ObjectStore;
import dev.anvil.workflows.ArtifactRef;
import io.temporal.client.ActivityCanceledException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command operator running real processes against the shared local stack's stores. */
class CommandOperatorTest {
    private static final Pattern CHILD = Pattern.compile("child=(\\d+)");
    private static LocalStackStores stores;
    private static ObjectStore objects;
    private static ArtifactStore artifacts;
    private static TaskRunStore taskRuns;
    private static PipelineRunStore runs;
    private static ArtifactIO io;

    @TempDir
    Path dir;

    @BeforeAll
    static void stores() throws Exception {
        stores = LocalStackStores.open("command_op", "command-test");
        objects = stores.objects();
        artifacts = stores.artifacts();
        taskRuns = stores.taskRuns();
        runs = stores.runs();
        io = stores.artifactIO(new ObjectMapper());
    }

    private static CommandOperator operator(Map<String, String> environment) {
        Map<String, String> env = new java.util.HashMap<>(environment);
        env.put("ANVIL_WORKER_COMMANDS", "true");
        env.put("PATH", System.getenv("PATH"));
        return new CommandOperator(io, CommandSettings.fromEnvironment(env));
    }

    @Test
    @SuppressWarnings("unchecked")
    void aScriptReadsItsInputAndWritesOutputsAndMetrics() throws Exception {
        ArtifactRef data = stores.upload(Files.writeString(dir.resolve("data.csv"), "x,y\n1,2\n"), "text/csv");
        String script = "set -e\n"
                + "echo \"training on $(wc -l < inputs/data) lines\"\n"
                + "echo 'a warning' >&2\n"
                + "{ cat \"$ANVIL_INPUT_DATA\"; echo model; } > out/model.onnx\n"
                + "printf '{\"accuracy\": 0.93, \"loss\": 0.12}' > out/metrics.json\n";
        Context context = context();

        Map<String, Object> outputs = operator(Map.of()).run(context, Map.of(
                "command", List.of("bash", "-c", script),
                "inputs", Map.of("data", data.sha256()),
                "outputs", Map.of("model", "out/model.onnx", "metrics", "out/metrics.json"),
                "timeout", "1m"));

        Map<String, Object> model = (Map<String, Object>) outputs.get("model");
        assertThat(model).containsEntry("size", data.size() + 6).containsEntry("mediaType", ArtifactIO.ONNX_MEDIA_TYPE);
        Map<String, Object> metrics = (Map<String, Object>) outputs.get("metrics");
        assertThat(metrics.get("mediaType")).isEqualTo(ArtifactIO.JSON_MEDIA_TYPE);
        assertThat((Map<String, Object>) outputs.get("metric_values")).containsEntry("accuracy", 0.93)
                .containsEntry("loss", 0.12);
        assertThat(outputs).containsEntry("exit_code", 0);
        assertThat(artifacts.find((String) metrics.get("sha256"))).isPresent();
        assertThat(stores.lineage().edgesOf(context.taskRunId)).extracting(LineageEdge::relation, LineageEdge::role)
                .contains(org.assertj.core.groups.Tuple.tuple(Relation.USED, "data"),
                        org.assertj.core.groups.Tuple.tuple(Relation.GENERATED, "model"),
                        org.assertj.core.groups.Tuple.tuple(Relation.GENERATED, "metrics"));
        assertThat(context.lines()).contains("stdout: training on 2 lines", "stderr: a warning");
    }

    @Test
    void aNonZeroExitFailsWithTheCodeAndTheLastLines() {
        String script = "for i in $(seq 1 30); do echo line $i; done; exit 3";
        assertThatThrownBy(() -> operator(Map.of()).run(context(), Map.of("command", List.of("bash", "-c", script))))
                .isInstanceOf(CommandFailedException.class)
                .hasMessageContaining("exited with code 3")
                .hasMessageContaining("last 20 log lines")
                .hasMessageContaining("line 30")
                .hasMessageContaining("line 11")
                .hasMessageNotContaining("line 10\n");
    }

    @Test
    void aDeclaredOutputNotWrittenIsNamed() {
        assertThatThrownBy(() -> operator(Map.of()).run(context(), Map.of("command", List.of("true"),
                "outputs", Map.of("model", "out/model.onnx"))))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("declared output 'model' (out/model.onnx) was not written");
    }

    @Test
    void outputPathsThatLeaveTheWorkingDirectoryAreRefusedBeforeRunning() throws Exception {
        Path marker = dir.resolve("ran");
        List<String> touch = List.of("touch", marker.toString());
        assertThatThrownBy(() -> operator(Map.of()).run(context(), Map.of("command", touch,
                "outputs", Map.of("x", "../x"))))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("leaves the working directory");
        assertThatThrownBy(() -> operator(Map.of()).run(context(), Map.of("command", touch,
                "outputs", Map.of("x", "/etc/passwd"))))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("is absolute");
        assertThat(marker).doesNotExist();

        // a link written by the command that points outside is refused after it ran
        assertThatThrownBy(() -> operator(Map.of()).run(context(), Map.of(
                "command", List.of("ln", "-s", "/etc/hostname", "model.onnx"),
                "outputs", Map.of("model", "model.onnx"))))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("outside the working directory");
    }

    @Test
    void aShellStringIsRefused() {
        assertThatThrownBy(() -> operator(Map.of()).run(context(), Map.of("command", "python3 train.py")))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("not a shell string");
    }

    @Test
    void timeoutKillsTheCommandAndItsChild() throws Exception {
        Context context = context();
        long start = System.nanoTime();
        assertThatThrownBy(() -> operator(Map.of()).run(context, Map.of(
                "command", List.of("bash", "-c", "sleep 60 & echo child=$!; wait"), "timeout", 2)))
                .isInstanceOf(CommandFailedException.class).hasMessageContaining("timed out after PT2S");
        assertThat((System.nanoTime() - start) / 1e9).isLessThan(20);
        assertGone(childOf(context));
    }

    @Test
    void cancellationKillsTheProcessTree() throws Exception {
        Context context = context();
        context.cancelWhenLogged = "child=";
        assertThatThrownBy(() -> operator(Map.of()).run(context, Map.of(
                "command", List.of("bash", "-c", "sleep 60 & echo child=$!; wait"))))
                .isInstanceOf(ActivityCanceledException.class);
        assertGone(childOf(context));
    }

    @Test
    void aWorkerWithoutCommandsEnabledRefuses() {
        CommandOperator off = new CommandOperator(io, CommandSettings.fromEnvironment(Map.of("PATH", "/usr/bin")));
        assertThatThrownBy(() -> off.run(context(), Map.of("command", List.of("true"))))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("this worker does not run commands: ANVIL_WORKER_COMMANDS is not true");
    }

    @Test
    void variablesComeFromTheWorkersProfileNeverFromTheSpec() throws Exception {
        CommandOperator op = operator(Map.of("ANVIL_COMMAND_ENV_TRAINING_API_KEY", "s3cret", "HIDDEN", "worker-only"));
        Context context = context();
        op.run(context, Map.of("command", List.of("bash", "-c", "echo key=$API_KEY hidden=$HIDDEN"),
                "env", "training"));
        assertThat(context.lines()).contains("stdout: key=s3cret hidden=");
        assertThat(String.join("\n", context.lines())).as("values never reach the log from the platform")
                .doesNotContain("anvil: running [bash, -c, echo key=$API_KEY hidden=$HIDDEN] (timeout PT1H, env profile"
                        + " training with [API_KEY]) s3cret");

        assertThatThrownBy(() -> op.run(context(), Map.of("command", List.of("true"), "environment",
                Map.of("API_KEY", "x")))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("never from the spec");
        assertThatThrownBy(() -> op.run(context(), Map.of("command", List.of("true"), "env", "prod")))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("profile 'prod', which this worker does not have; it has [training]");
    }

    private static long childOf(Context context) {
        for (String line : context.lines()) {
            Matcher m = CHILD.matcher(line);
            if (m.find()) {
                return Long.parseLong(m.group(1));
            }
        }
        throw new AssertionError("the script did not print its child's pid: " + context.lines());
    }

    private static void assertGone(long pid) throws InterruptedException {
        for (int i = 0; i < 50 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false); i++) {
            Thread.sleep(100);
        }
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                .as("child process %d is gone", pid).isFalse();
    }

    private static Context context() {
        String runId = "run-" + UUID.randomUUID();
        runs.create(runId, "test", "{}", "tester");
        return new Context(runId, taskRuns.start(runId, "train", 1, "command", "{}"));
    }

    private static final class Context implements TaskContext {
        final String runId;
        final long taskRunId;
        final List<String> lines = new ArrayList<>();
        volatile String cancelWhenLogged;
        final AtomicBoolean cancel = new AtomicBoolean();

        Context(String runId, long taskRunId) {
            this.runId = runId;
            this.taskRunId = taskRunId;
        }

        synchronized List<String> lines() {
            return List.copyOf(lines);
        }

        @Override
        public String runId() {
            return runId;
        }

        @Override
        public String taskId() {
            return "train";
        }

        @Override
        public long taskRunId() {
            return taskRunId;
        }

        @Override
        public void heartbeat(Object progress) {
            if (cancel.get()) {
                throw new ActivityCanceledException();
            }
        }

        @Override
        public TaskLog log() {
            return (level, source, message) -> {
                synchronized (this) {
                    lines.add(source + ": " + message);
                }
                if (cancelWhenLogged != null && message.contains(cancelWhenLogged)) {
                    cancel.set(true);
                }
            };
        }
    }

    static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
