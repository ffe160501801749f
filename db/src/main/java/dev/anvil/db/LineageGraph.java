package dev.anvil.db;

import java.util.List;

/**
 * The ancestry or descendants of one artifact. Nodes come nearest first (depth 0 is the root
 * artifact itself), and so do edges, so a chain reads in order. Edges point the way data flowed:
 * artifact → task run for {@link Relation#USED}, task run → artifact for {@link Relation#GENERATED}.
 *
 * @param root the sha256 the walk started from
 * @param truncated true when the walk stopped at its depth limit with edges left to follow
 */
public record LineageGraph(String root, List<Node> nodes, List<Edge> edges, boolean truncated) {

    public enum NodeKind { ARTIFACT, TASK_RUN }

    /**
     * @param id the sha256 of an artifact, or the decimal id of a task run; the two never collide
     *           because a sha256 is 64 hex digits and a task-run id at most 19 decimal ones
     * @param depth steps from the root along the walk's shortest path
     */
    public record Node(NodeKind kind, String id, int depth) {
    }

    /**
     * @param from the id of the node data flowed from
     * @param to the id of the node data flowed to
     */
    public record Edge(String from, String to, Relation relation, String role) {
    }
}
