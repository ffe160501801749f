package dev.anvil.workflows;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Workflow histories recorded from real executions and committed under
 * {@code src/test/resources/histories/}. Replay tests load them to prove that today's workflow code
 * still replays runs started by yesterday's; recording tests write them, only when asked with
 * {@code -Danvil.recordHistories=true}, because a recorded history is the fixed point the replay
 * tests measure against and must change only on purpose.
 */
public final class RecordedHistories {
    /** System property that turns the recording tests on. */
    public static final String RECORD_PROPERTY = "anvil.recordHistories";

    private static final String RESOURCE_DIR = "histories";

    private RecordedHistories() {}

    /** The history {@code name} (without ".json") from the test class path. */
    public static WorkflowExecutionHistory load(String name) {
        String resource = "/" + RESOURCE_DIR + "/" + name + ".json";
        if (recording()) {
            // the recording test just wrote it, after the resources were copied to the class path
            return fromFile(sourceDir().resolve(name + ".json"));
        }
        try (InputStream in = RecordedHistories.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("no recorded history " + resource + " on the test class path: record it with "
                        + "./mvnw -pl workflows test -D" + RECORD_PROPERTY + "=true -Dtest='*ReplayTest' and commit the file");
            }
            return WorkflowExecutionHistory.fromJson(new String(in.readAllBytes(), UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("could not read recorded history " + resource, e);
        }
    }

    /**
     * Fetches the finished execution {@code workflowId}'s history and writes it to the module's test
     * resources as {@code name}.json, where it is committed.
     */
    public static Path save(WorkflowClient client, String workflowId, String name) {
        WorkflowExecutionHistory history = client.fetchHistory(workflowId);
        Path dir = sourceDir();
        Path file = dir.resolve(name + ".json");
        try {
            Files.createDirectories(dir);
            Files.writeString(file, history.toJson(true) + "\n", UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write recorded history " + file, e);
        }
        return file;
    }

    /**
     * A time-skipping test environment for recording; its fixed identity keeps the recording
     * machine's pid and host name out of the committed files.
     */
    public static TestWorkflowEnvironment newRecordingEnvironment() {
        return TestWorkflowEnvironment.newInstance(TestEnvironmentOptions.newBuilder()
                .setWorkflowClientOptions(WorkflowClientOptions.newBuilder().setIdentity("anvil-history-recorder").build())
                .build());
    }

    /** Whether this test run records histories; recording tests run first (by their order) when it does. */
    public static boolean recording() {
        return Boolean.getBoolean(RECORD_PROPERTY);
    }

    private static Path sourceDir() {
        // Surefire runs in the module directory and names it in "basedir"
        return Path.of(System.getProperty("basedir", "."), "src", "test", "resources", RESOURCE_DIR);
    }

    private static WorkflowExecutionHistory fromFile(Path file) {
        try {
            return WorkflowExecutionHistory.fromJson(Files.readString(file, UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("could not read recorded history " + file, e);
        }
    }
}
