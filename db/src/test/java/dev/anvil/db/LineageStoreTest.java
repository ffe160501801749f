package dev.anvil.db;

import static dev.anvil.db.TestData.artifact;
import static dev.anvil.db.TestData.sha256Of;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.anvil.db.LineageGraph.Edge;
import dev.anvil.db.LineageGraph.Node;
import dev.anvil.db.LineageGraph.NodeKind;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class LineageStoreTest {

    private final DataSource db = TestPostgres.migratedDatabase();
    private final ArtifactStore artifacts = new ArtifactStore(db);
    private final TaskRunStore tasks = new TaskRunStore(db);
    private final LineageStore lineage = new LineageStore(db);

    private final String a = sha256Of("A");
    private final String b = sha256Of("B");
    private final String c = sha256Of("C");
    private final String d = sha256Of("D");

    LineageStoreTest() {
        new PipelineRunStore(db).create("run-1", "p", null, "u");
    }

    /** A → t1 → B → t2 → C → t3 → D; returns the three task-run ids. */
    private long[] threeStepChain() {
        artifact(artifacts, "A", null);
        long t1 = step("train", "A", "B");
        long t2 = step("quantize", "B", "C");
        long t3 = step("compile", "C", "D");
        return new long[] {t1, t2, t3};
    }

    private long step(String taskId, String input, String output) {
        long taskRun = tasks.start("run-1", taskId, 1, taskId + "Operator", null);
        artifact(artifacts, output, taskRun);
        lineage.addEdge(taskRun, sha256Of(input), Relation.USED, "input");
        lineage.addEdge(taskRun, sha256Of(output), Relation.GENERATED, "output");
        return taskRun;
    }

    @Test
    void ancestorsOfTheLastArtifactComeBackInOrder() {
        long[] t = threeStepChain();

        LineageGraph graph = lineage.ancestors(d).orElseThrow();

        assertThat(graph.root()).isEqualTo(d);
        assertThat(graph.truncated()).isFalse();
        assertThat(graph.nodes()).extracting(Node::kind, Node::id, Node::depth).containsExactly(
                tuple(NodeKind.ARTIFACT, d, 0),
                tuple(NodeKind.TASK_RUN, "" + t[2], 1),
                tuple(NodeKind.ARTIFACT, c, 2),
                tuple(NodeKind.TASK_RUN, "" + t[1], 3),
                tuple(NodeKind.ARTIFACT, b, 4),
                tuple(NodeKind.TASK_RUN, "" + t[0], 5),
                tuple(NodeKind.ARTIFACT, a, 6));
        assertThat(graph.edges()).containsExactly(
                new Edge("" + t[2], d, Relation.GENERATED, "output"),
                new Edge(c, "" + t[2], Relation.USED, "input"),
                new Edge("" + t[1], c, Relation.GENERATED, "output"),
                new Edge(b, "" + t[1], Relation.USED, "input"),
                new Edge("" + t[0], b, Relation.GENERATED, "output"),
                new Edge(a, "" + t[0], Relation.USED, "input"));
    }

    @Test
    void descendantsOfTheFirstArtifactComeBackInOrder() {
        long[] t = threeStepChain();

        LineageGraph graph = lineage.descendants(a).orElseThrow();

        assertThat(graph.nodes()).extracting(Node::id, Node::depth).containsExactly(
                tuple(a, 0), tuple("" + t[0], 1), tuple(b, 2), tuple("" + t[1], 3),
                tuple(c, 4), tuple("" + t[2], 5), tuple(d, 6));
        assertThat(graph.edges()).extracting(Edge::from, Edge::to).containsExactly(
                tuple(a, "" + t[0]), tuple("" + t[0], b), tuple(b, "" + t[1]),
                tuple("" + t[1], c), tuple(c, "" + t[2]), tuple("" + t[2], d));
    }

    @Test
    void aMiddleArtifactSeesOnlyItsOwnSide() {
        threeStepChain();

        assertThat(lineage.ancestors(b).orElseThrow().nodes()).hasSize(3);
        assertThat(lineage.descendants(b).orElseThrow().nodes()).extracting(Node::id).endsWith(d);
        assertThat(lineage.ancestors(a).orElseThrow().nodes()).extracting(Node::id).containsExactly(a);
    }

    @Test
    void addingAnEdgeTwiceKeepsOneRow() {
        artifact(artifacts, "A", null);
        long t1 = tasks.start("run-1", "t", 1, "Op", null);

        lineage.addEdge(t1, a, Relation.USED, "model");
        lineage.addEdge(t1, a, Relation.USED, "model");

        assertThat(lineage.edgesOf(t1)).containsExactly(new LineageEdge(t1, a, Relation.USED, "model"));
    }

    @Test
    void aCycleEndsAtEachNodesNearestDepth() {
        // A task that passes its input through unchanged generates the very artifact it used.
        artifact(artifacts, "A", null);
        long t1 = tasks.start("run-1", "passthrough", 1, "Op", null);
        lineage.addEdge(t1, a, Relation.USED, "input");
        lineage.addEdge(t1, a, Relation.GENERATED, "output");

        LineageGraph graph = lineage.ancestors(a).orElseThrow();

        assertThat(graph.nodes()).extracting(Node::id, Node::depth).containsExactly(tuple(a, 0), tuple("" + t1, 1));
        assertThat(graph.edges()).hasSize(2);
        assertThat(graph.truncated()).isFalse();
    }

    @Test
    void aWalkLongerThanTheDepthLimitSaysItWasTruncated() {
        threeStepChain();

        LineageGraph graph = new LineageStore(db, 3).ancestors(d).orElseThrow();

        assertThat(graph.truncated()).isTrue();
        assertThat(graph.nodes()).extracting(Node::depth).containsExactly(0, 1, 2, 3);
        assertThat(graph.edges()).hasSize(3);
    }

    @Test
    void unknownArtifactHasNoGraphAndUnknownEdgeEndsAreNamed() {
        assertThat(lineage.ancestors(sha256Of("nothing"))).isEmpty();

        long t1 = tasks.start("run-1", "t", 1, "Op", null);
        assertThatThrownBy(() -> lineage.addEdge(t1, sha256Of("nothing"), Relation.USED, null))
                .isInstanceOf(DataAccessException.class)
                .hasMessage("lineage_edges add edge: artifact " + sha256Of("nothing")
                        + " is not in artifacts; insert the artifact before its lineage");
        artifact(artifacts, "A", null);
        assertThatThrownBy(() -> lineage.addEdge(777, a, Relation.USED, null))
                .hasMessage("lineage_edges add edge: no task run with id 777; record the task run's start before its lineage");
    }
}
