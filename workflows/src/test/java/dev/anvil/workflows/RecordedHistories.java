package dev.anvil.workflows;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Workflow histories recorded from real executions and committed under
 * {@code src/test/resources/histories/}. {@code RecordedHistoriesReplayTest} replays every one of them
 * on today's workflow code, to prove that it still replays runs started by yesterday's; the
 * {@code *ReplayTest} classes say what each history covers and hold the scenarios that record them.
 * They record only when asked, because a recorded history is the fixed point the replay tests measure
 * against and must change only on purpose. One command records them all anew:
 * <pre>
 *   {@value #RECORD_COMMAND}
 * </pre>
 */
public final class RecordedHistories {
    /** System property that turns the recording tests on. */
    public static final String RECORD_PROPERTY = "anvil.recordHistories";
    /** Records every history anew (run from the repository root); see docs/workflow-versioning.md. */
    public static final String RECORD_COMMAND = "./mvnw -B -o -q -pl workflows -am test -D" + RECORD_PROPERTY
            + "=true -Dtest='*ReplayTest' -Dsurefire.failIfNoSpecifiedTests=false";
    /** The task queue the recording worker polls. */
    public static final String TASK_QUEUE = "replay-recording";

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
                        + RECORD_COMMAND + " and commit the file");
            }
            return WorkflowExecutionHistory.fromJson(new String(in.readAllBytes(), UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("could not read recorded history " + resource, e);
        }
    }

    /**
     * Fetches the finished execution {@code workflowId}'s history (its latest run) and writes it to the
     * module's test resources as {@code name}.json, where it is committed.
     */
    public static Path save(WorkflowClient client, String workflowId, String name) {
        return write(client.fetchHistory(workflowId), name);
    }

    /**
     * A scenario to record: it starts its workflow on {@link #TASK_QUEUE} and returns once the workflow
     * completed, failed, was cancelled or continued as new (not terminated: the SDK's replayer cannot
     * replay a terminated history).
     */
    @FunctionalInterface
    public interface Scenario {
        void run(TestWorkflowEnvironment env, Worker worker) throws Exception;
    }

    /**
     * Records one scenario in a fresh time-skipping environment whose worker runs {@code workflowImplementation}
     * with {@code activities}. The scenario's workflow has the id {@code name}; each of its runs is saved,
     * the first as {@code name}.json and, when it continued as new, the later ones as {@code name-run2}.json
     * and on, and each saved file is replayed at once on {@code workflowImplementation}.
     *
     * @return the names saved, oldest run first
     */
    public static List<String> record(String name, Class<?> workflowImplementation, List<Object> activities,
                                      Scenario scenario) {
        try (TestWorkflowEnvironment env = newRecordingEnvironment()) {
            Worker worker = env.newWorker(TASK_QUEUE);
            worker.registerWorkflowImplementationTypes(workflowImplementation);
            worker.registerActivitiesImplementations(activities.toArray());
            env.start();
            scenario.run(env, worker);
            List<WorkflowExecutionHistory> runs = runsOf(env.getWorkflowClient(), name);
            List<String> names = new ArrayList<>();
            for (int i = 0; i < runs.size(); i++) {
                String runName = i == 0 ? name : name + "-run" + (i + 1);
                write(runs.get(i), runName);
                WorkflowReplayer.replayWorkflowExecution(load(runName), workflowImplementation);
                names.add(runName);
            }
            return names;
        } catch (Exception e) {
            throw new IllegalStateException("could not record " + name + ": " + e.getMessage(), e);
        }
    }

    /** Every run of {@code workflowId}, oldest first, following continue-as-new back from the latest. */
    private static List<WorkflowExecutionHistory> runsOf(WorkflowClient client, String workflowId) {
        List<WorkflowExecutionHistory> runs = new ArrayList<>();
        WorkflowExecutionHistory run = client.fetchHistory(workflowId);
        while (true) {
            runs.add(0, run);
            String previous = run.getEvents().get(0).getWorkflowExecutionStartedEventAttributes().getContinuedExecutionRunId();
            if (previous.isEmpty()) {
                return runs;
            }
            run = client.fetchHistory(workflowId, previous);
        }
    }

    /** The workflow type a history is of, as its first event names it. */
    public static String workflowType(WorkflowExecutionHistory history) {
        return history.getEvents().get(0).getWorkflowExecutionStartedEventAttributes().getWorkflowType().getName();
    }

    /** The names (without ".json") of every recorded history on the test class path, sorted. */
    public static List<String> names() {
        URL dir = RecordedHistories.class.getResource("/" + RESOURCE_DIR);
        if (dir == null) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(Path.of(dir.toURI()))) {
            return files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".json"))
                    .map(f -> f.substring(0, f.length() - ".json".length())).sorted().toList();
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException("could not list the recorded histories in " + dir, e);
        }
    }

    private static Path write(WorkflowExecutionHistory history, String name) {
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
