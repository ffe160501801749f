package dev.anvil.workflows;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.common.metadata.POJOWorkflowInterfaceMetadata;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.workflow.WorkflowInterface;
import java.io.IOException;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Replays every recorded history under {@code src/test/resources/histories/} on today's implementation
 * of its workflow type, and requires a history for every workflow type the module defines. A change
 * that would break runs in flight (a new activity, a reordered command, a timer) fails here instead of
 * on a production worker: put it behind {@code Workflow.getVersion} (docs/workflow-versioning.md).
 *
 * <p>Implementations are found on the module's compiled classes, so a new workflow type needs only its
 * recorded histories (a scenario in its {@code *ReplayTest}, recorded with
 * {@value RecordedHistories#RECORD_COMMAND}). While recording this class stands aside: the recorders
 * replay each file as they write it.
 */
@DisabledIfSystemProperty(named = RecordedHistories.RECORD_PROPERTY, matches = "true")
class RecordedHistoriesReplayTest {
    /** Workflow type name to the one implementation of its interface in the module. */
    private static Map<String, Class<?>> implementations;

    @BeforeAll
    static void findImplementations() throws IOException, URISyntaxException {
        implementations = implementationsByType();
    }

    static List<String> histories() {
        return RecordedHistories.names();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("histories")
    void replaysOnTodaysCode(String name) throws Exception {
        WorkflowExecutionHistory history = RecordedHistories.load(name);
        String type = RecordedHistories.workflowType(history);
        assertThat(implementations).as("an implementation of workflow type %s, which %s.json is of", type, name)
                .containsKey(type);
        WorkflowReplayer.replayWorkflowExecution(history, implementations.get(type));
    }

    @Test
    void everyWorkflowTypeHasARecordedHistory() {
        TreeSet<String> recorded = new TreeSet<>();
        for (String name : histories()) {
            recorded.add(RecordedHistories.workflowType(RecordedHistories.load(name)));
        }
        assertThat(implementations.keySet()).as("workflow types of the module").isNotEmpty();
        assertThat(recorded).as("workflow types with a recorded history").containsAll(implementations.keySet());
    }

    /** Each {@code @WorkflowInterface} among the module's classes, by type name, with its implementation. */
    private static Map<String, Class<?>> implementationsByType() throws IOException, URISyntaxException {
        // the module's main classes: where a main class (not a test) was loaded from
        Path classes = Path.of(ArtifactRef.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<Class<?>> all = new ArrayList<>();
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String name = classes.relativize(f).toString().replace(f.getFileSystem().getSeparator(), ".")
                        .replaceAll("\\.class$", "");
                try {
                    all.add(Class.forName(name, false, RecordedHistoriesReplayTest.class.getClassLoader()));
                } catch (ClassNotFoundException | LinkageError e) {
                    throw new IllegalStateException("could not load " + name, e);
                }
            }
        }
        Map<String, Class<?>> byType = new TreeMap<>();
        for (Class<?> iface : all) {
            if (!iface.isInterface() || !iface.isAnnotationPresent(WorkflowInterface.class)) {
                continue;
            }
            String type = POJOWorkflowInterfaceMetadata.newInstance(iface).getWorkflowType()
                    .orElseThrow(() -> new IllegalStateException(iface + " has no workflow method"));
            List<Class<?>> impls = all.stream().filter(c -> !c.isInterface() && !Modifier.isAbstract(c.getModifiers())
                    && iface.isAssignableFrom(c)).toList();
            assertThat(impls).as("implementations of %s", iface.getName()).hasSize(1);
            byType.put(type, impls.get(0));
        }
        return byType;
    }
}
