package dev.anvil.db;

/** A row of lineage_edges: a task run used or generated an artifact, in a role such as "model". */
public record LineageEdge(long taskRunId, String artifactSha256, Relation relation, String role) {
}
