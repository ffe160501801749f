package dev.anvil.api.artifacts;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The lineage of an artifact as a graph: nodes (artifacts and task runs) and edges in the direction
 * data flowed, ancestors and descendants each ordered nearest first.
 */
public record LineageView(String artifact, Graph ancestors, Graph descendants) {

    public record Graph(List<Node> nodes, List<Edge> edges, boolean truncated) {}

    /** For a task run, {@code run}, {@code task}, {@code operator} and {@code status} say which. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Node(String kind, String id, int depth, String mediaType, String run, String task,
                       Integer attempt, String operator, String status) {}

    public record Edge(String from, String to, String relation, String role) {}
}
