package dev.anvil.activities.command;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.activities.operators.TaskLog;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Airflow's BashOperator for teams' own scripts: runs an argv list (never a shell string) in a private
 * working directory holding the task's input artifacts, logs its stdout and stderr line by line into the
 * attempt's log, heartbeats while it runs, kills the whole process tree on cancel or timeout, and publishes
 * the declared outputs as artifacts. Only workers started with {@code ANVIL_WORKER_COMMANDS=true} run it;
 * the process gets a minimal environment plus the worker's named profile, never variables from the spec.
 */
public final class CommandOperator implements Operator {
    static final int TAIL_LINES = 20;
    private static final Duration POLL = Duration.ofMillis(500);

    private final ArtifactIO io;
    private final CommandSettings settings;

    public CommandOperator(ArtifactIO io, CommandSettings settings) {
        this.io = io;
        this.settings = settings;
    }

    @Override
    public OperatorDescriptor descriptor() {
        return BuiltInOperators.COMMAND;
    }

    @Override
    public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
        if (!settings.enabled()) {
            throw CommandSpec.bad("this worker does not run commands: " + CommandSettings.ENABLE_VARIABLE
                    + " is not true here. Run the task on a worker started with " + CommandSettings.ENABLE_VARIABLE
                    + "=true (and its queue named in the task's queue:)");
        }
        CommandSpec spec = CommandSpec.parse(with);
        Map<String, String> profile = Map.of();
        if (spec.env() != null) {
            profile = settings.profile(spec.env()).orElseThrow(() -> CommandSpec.bad("with.env names profile '"
                    + spec.env() + "', which this worker does not have; it has " + settings.profiles().keySet()
                    + " (set ANVIL_COMMAND_ENV_<PROFILE>_<VAR> on the worker)"));
        }
        Path workdir = Files.createTempDirectory("anvil-command-", PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        try {
            return runIn(workdir.toRealPath(), context, spec, profile);
        } finally {
            deleteTree(workdir);
        }
    }

    private Map<String, Object> runIn(Path workdir, TaskContext context, CommandSpec spec, Map<String, String> profile)
            throws Exception {
        TaskLog log = context.log();
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", settings.path());
        env.put("HOME", workdir.toString());
        env.put("TMPDIR", Files.createDirectories(workdir.resolve("tmp")).toString());
        env.put("LANG", "C.UTF-8");
        // Python buffers a pipe's output; unbuffered, its lines reach the log while it runs
        env.put("PYTHONUNBUFFERED", "1");
        env.put("ANVIL_RUN_ID", context.runId());
        env.put("ANVIL_TASK_ID", context.taskId());
        env.put("ANVIL_WORKDIR", workdir.toString());
        Path inputs = Files.createDirectories(workdir.resolve("inputs"));
        for (String name : spec.inputs().keySet()) {
            ArtifactRef ref = io.resolve("command", Map.of("inputs." + name, spec.inputs().get(name)), "inputs." + name);
            io.used(context, ref, name);
            Path fetched = io.fetch(ref, ".input");
            Path target = inputs.resolve(name);
            Files.move(fetched, target, StandardCopyOption.REPLACE_EXISTING);
            env.put("ANVIL_INPUT_" + name.toUpperCase(Locale.ROOT), target.toString());
            log.info("input " + name + " (" + ref.sha256() + ", " + ref.size() + " bytes) is at inputs/" + name);
        }
        for (Map.Entry<String, Path> out : spec.outputs().entrySet()) {
            Path file = workdir.resolve(out.getValue());
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            env.put("ANVIL_OUTPUT_" + out.getKey().toUpperCase(Locale.ROOT), file.toString());
        }
        env.putAll(profile);

        ProcessBuilder builder = new ProcessBuilder(spec.argv()).directory(workdir.toFile());
        builder.environment().clear();
        builder.environment().putAll(env);
        log.info("running " + spec.argv() + " (timeout " + spec.timeout() + (spec.env() == null ? ""
                : ", env profile " + spec.env() + " with " + profile.keySet()) + ")");
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw CommandSpec.bad("cannot start " + spec.argv().get(0) + ": " + e.getMessage()
                    + "; is it installed on the worker and on its PATH (" + settings.path() + ")?");
        }
        ProcessTree tree = new ProcessTree(process);
        Deque<String> tail = new ArrayDeque<>();
        Thread out = pump(process.getInputStream(), "stdout", log, tail);
        Thread err = pump(process.getErrorStream(), "stderr", log, tail);
        long started = System.nanoTime();
        boolean finished = false;
        try {
            while (!process.waitFor(POLL.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                tree.look();
                Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
                if (elapsed.compareTo(spec.timeout()) > 0) {
                    tree.kill();
                    joinQuietly(out, err);
                    log.error("timed out after " + spec.timeout() + "; killed the command and its processes");
                    throw new CommandFailedException("command " + spec.argv() + " timed out after " + spec.timeout()
                            + " and was killed with its processes" + lastLines(tail));
                }
                // a cancel surfaces here (ActivityCompletionException); the finally kills the tree
                context.heartbeat(Map.of("elapsed_seconds", elapsed.toSeconds()));
            }
            finished = true;
        } finally {
            if (!finished) {
                tree.kill();
            }
        }
        tree.killLeftovers();
        joinQuietly(out, err);
        int exit = process.exitValue();
        double seconds = Duration.ofNanos(System.nanoTime() - started).toMillis() / 1000.0;
        log.info("command exited with code " + exit + " after " + seconds + " s");
        if (exit != 0) {
            throw new CommandFailedException("command " + spec.argv() + " exited with code " + exit + lastLines(tail));
        }
        return publish(workdir, context, spec, exit, seconds);
    }

    private Map<String, Object> publish(Path workdir, TaskContext context, CommandSpec spec, int exit, double seconds)
            throws IOException {
        Map<String, Path> files = new LinkedHashMap<>();
        for (Map.Entry<String, Path> out : spec.outputs().entrySet()) {
            files.put(out.getKey(), written(workdir, out.getKey(), out.getValue()));
        }
        Map<String, Object> outputs = new LinkedHashMap<>();
        for (Map.Entry<String, Path> file : files.entrySet()) {
            String relative = spec.outputs().get(file.getKey()).toString();
            ArtifactRef ref = io.publish(context, file.getValue(), mediaType(relative), file.getKey());
            outputs.put(file.getKey(), io.asOutput(ref));
            context.log().info("output " + file.getKey() + " (" + relative + ") stored as " + ref.sha256());
            if (file.getValue().getFileName().toString().equals("metrics.json")) {
                metrics(file.getValue(), context.log()).ifPresent(m -> outputs.put("metric_values", m));
            }
        }
        outputs.put("exit_code", exit);
        outputs.put("duration_seconds", seconds);
        return outputs;
    }

    /** The declared output's file, refused when missing or when it resolves outside the working directory. */
    static Path written(Path workdir, String name, Path relative) throws IOException {
        Path file = workdir.resolve(relative);
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            throw CommandSpec.bad("declared output '" + name + "' (" + relative + ") was not written; the command"
                    + " must write it inside its working directory (its path is also in ANVIL_OUTPUT_"
                    + name.toUpperCase(Locale.ROOT) + ")");
        }
        if (!Files.exists(file)) {
            throw CommandSpec.bad("declared output '" + name + "' (" + relative + ") is a broken link");
        }
        Path real = file.toRealPath();
        if (!real.startsWith(workdir)) {
            throw CommandSpec.bad("declared output '" + name + "' (" + relative + ") is a link to " + real
                    + ", outside the working directory; outputs must be files inside it");
        }
        if (!Files.isRegularFile(real)) {
            throw CommandSpec.bad("declared output '" + name + "' (" + relative + ") is not a file");
        }
        return real;
    }

    /** A metrics.json that is a flat object of numbers becomes the task's metric values. */
    private java.util.Optional<Map<String, Object>> metrics(Path file, TaskLog log) {
        try {
            JsonNode node = io.json().readTree(file.toFile());
            if (node == null || !node.isObject()) {
                log.warning("metrics.json is not a JSON object; kept as an artifact only");
                return java.util.Optional.empty();
            }
            Map<String, Object> values = new LinkedHashMap<>();
            var fields = node.fields();
            while (fields.hasNext()) {
                var field = fields.next();
                if (!field.getValue().isNumber()) {
                    log.warning("metrics.json holds " + field.getKey() + " = " + field.getValue()
                            + ", not a number; kept as an artifact only (metric values need a flat object of numbers)");
                    return java.util.Optional.empty();
                }
                values.put(field.getKey(), field.getValue().numberValue());
            }
            return java.util.Optional.of(values);
        } catch (IOException e) {
            log.warning("metrics.json is not valid JSON (" + e.getMessage() + "); kept as an artifact only");
            return java.util.Optional.empty();
        }
    }

    static String mediaType(String path) {
        String lower = path.toLowerCase(Locale.ROOT);
        if (lower.endsWith(".onnx")) {
            return ArtifactIO.ONNX_MEDIA_TYPE;
        }
        if (lower.endsWith(".json")) {
            return ArtifactIO.JSON_MEDIA_TYPE;
        }
        if (lower.endsWith(".csv")) {
            return "text/csv";
        }
        if (lower.endsWith(".txt") || lower.endsWith(".log")) {
            return "text/plain";
        }
        if (lower.endsWith(".zip")) {
            return "application/zip";
        }
        return "application/octet-stream";
    }

    /** Copies a process stream into the log, line by line, keeping the last lines for an error message. */
    private static Thread pump(InputStream stream, String source, TaskLog log, Deque<String> tail) {
        Thread t = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    log.line("info", source, line);
                    synchronized (tail) {
                        tail.addLast(line);
                        if (tail.size() > TAIL_LINES) {
                            tail.removeFirst();
                        }
                    }
                }
            } catch (IOException e) {
                // the stream closed under us (the process was killed): nothing more to read
            }
        }, "anvil-command-" + source);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void joinQuietly(Thread... threads) {
        for (Thread t : threads) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static String lastLines(Deque<String> tail) {
        synchronized (tail) {
            if (tail.isEmpty()) {
                return "; it printed nothing";
            }
            return "; its last " + tail.size() + " log lines:\n" + String.join("\n", tail);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            // walk does not follow links, so a link to elsewhere is deleted, never what it points at
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // left for the OS's temp cleaning
                }
            });
        } catch (IOException e) {
            // nothing to delete, or left for the OS's temp cleaning
        }
    }
}
