package dev.anvil.db;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;

/** Lineage edges (W3C PROV) and the walks over them: where an artifact came from and what it fed. */
public final class LineageStore {

    /** Deep enough for any real pipeline chain; it bounds the walk when lineage has a cycle. */
    public static final int MAX_DEPTH = 100;

    private static final String TABLE = "lineage_edges";

    /**
     * One step of a walk per recursion: from an artifact along edges of the first relation to task
     * runs, from a task run along edges of the second relation to artifacts. Each row carries the
     * edge that reached it. UNION (not UNION ALL) keeps one row per node, depth and edge, so
     * diamonds do not multiply paths and a cycle (a task that outputs its input unchanged) only
     * repeats until the depth limit.
     */
    private static final String WALK = """
            WITH RECURSIVE walk (sha256, task_run_id, depth, edge_task_run_id, edge_sha256, edge_relation, edge_role) AS (
                SELECT ?::text, NULL::bigint, 0, NULL::bigint, NULL::text, NULL::text, NULL::text
              UNION
                SELECT CASE WHEN w.sha256 IS NULL THEN e.artifact_sha256 END,
                       CASE WHEN w.sha256 IS NULL THEN NULL ELSE e.task_run_id END,
                       w.depth + 1, e.task_run_id, e.artifact_sha256, e.relation, e.role
                  FROM walk w
                  JOIN lineage_edges e
                    ON (e.artifact_sha256 = w.sha256 AND e.relation = ?)
                    OR (e.task_run_id = w.task_run_id AND e.relation = ?)
                 WHERE w.depth < ?
            )
            SELECT sha256, task_run_id, depth, edge_task_run_id, edge_sha256, edge_relation, edge_role FROM walk
            """;

    private final Jdbc jdbc;
    private final int maxDepth;

    public LineageStore(DataSource dataSource) {
        this(dataSource, MAX_DEPTH);
    }

    /** @param maxDepth how many steps a walk follows before it reports itself truncated */
    public LineageStore(DataSource dataSource, int maxDepth) {
        if (maxDepth < 1) {
            throw new IllegalArgumentException("maxDepth " + maxDepth + " must be at least 1");
        }
        this.jdbc = new Jdbc(dataSource);
        this.maxDepth = maxDepth;
    }

    /** Records an edge. Idempotent: a retried activity recording it again changes nothing. */
    public void addEdge(long taskRunId, String artifactSha256, Relation relation, String role) {
        Validate.sha256(TABLE, "add edge", artifactSha256);
        Validate.notNull(TABLE, "add edge", "relation", relation);
        jdbc.withConnection(TABLE, "add edge", c -> {
            try {
                return Jdbc.update(c, "INSERT INTO lineage_edges (task_run_id, artifact_sha256, relation, role)"
                        + " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        taskRunId, artifactSha256, relation.sqlValue(), role);
            } catch (SQLException e) {
                if (Jdbc.violates(e, "lineage_edges_task_run_id_fkey")) {
                    throw DataAccessException.badInput(TABLE, "add edge", "no task run with id " + taskRunId
                            + "; record the task run's start before its lineage", e);
                }
                if (Jdbc.violates(e, "lineage_edges_artifact_sha256_fkey")) {
                    throw DataAccessException.badInput(TABLE, "add edge", "artifact " + artifactSha256
                            + " is not in artifacts; insert the artifact before its lineage", e);
                }
                throw e;
            }
        });
    }

    /** The edges of one task run: what it used and what it generated. */
    public List<LineageEdge> edgesOf(long taskRunId) {
        return jdbc.query(TABLE, "edges of task run", "SELECT task_run_id, artifact_sha256, relation, role"
                + " FROM lineage_edges WHERE task_run_id = ? ORDER BY relation DESC, artifact_sha256", // inputs first
                rs -> new LineageEdge(rs.getLong(1), rs.getString(2), Relation.fromSql(rs.getString(3)), rs.getString(4)),
                taskRunId);
    }

    /**
     * Where an artifact came from: the task run that generated it, the artifacts that run used,
     * and so on upward. Empty when the artifact is unknown.
     */
    public Optional<LineageGraph> ancestors(String sha256) {
        return walk(sha256, "ancestors", Relation.GENERATED, Relation.USED);
    }

    /**
     * What an artifact fed: the task runs that used it, the artifacts they generated, and so on
     * downward. Empty when the artifact is unknown.
     */
    public Optional<LineageGraph> descendants(String sha256) {
        return walk(sha256, "descendants", Relation.USED, Relation.GENERATED);
    }

    private Optional<LineageGraph> walk(String sha256, String operation, Relation fromArtifact, Relation fromTaskRun) {
        Validate.sha256(TABLE, operation, sha256);
        return jdbc.inTransaction(TABLE, operation, c -> {
            // One snapshot for the existence check and the walk; scoped to this transaction, so
            // a pooled connection goes back with its usual isolation level.
            Jdbc.update(c, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
            if (Jdbc.queryOne(c, "SELECT 1 FROM artifacts WHERE sha256 = ?", rs -> 1, sha256).isEmpty()) {
                return Optional.empty();
            }
            // One step past the limit, so a node found only there tells that the walk was cut short.
            List<WalkRow> rows = Jdbc.query(c, WALK, WalkRow::map,
                    sha256, fromArtifact.sqlValue(), fromTaskRun.sqlValue(), maxDepth + 1);
            return Optional.of(toGraph(sha256, rows));
        });
    }

    private LineageGraph toGraph(String root, List<WalkRow> rows) {
        Map<String, LineageGraph.Node> nearest = new HashMap<>();
        for (WalkRow row : rows) {
            nearest.merge(row.node().id(), row.node(), (a, b) -> a.depth() <= b.depth() ? a : b);
        }
        boolean truncated = nearest.values().stream().anyMatch(n -> n.depth() > maxDepth);
        nearest.values().removeIf(n -> n.depth() > maxDepth);

        List<LineageGraph.Node> nodes = new ArrayList<>(nearest.values());
        nodes.sort(Comparator.comparingInt(LineageGraph.Node::depth)
                .thenComparing(LineageGraph.Node::kind)
                .thenComparing(LineageGraph.Node::id));

        Set<LineageGraph.Edge> edges = new LinkedHashSet<>();
        for (WalkRow row : rows) {
            LineageGraph.Edge edge = row.edge();
            if (edge != null && nearest.containsKey(edge.from()) && nearest.containsKey(edge.to())) {
                edges.add(edge);
            }
        }
        List<LineageGraph.Edge> sorted = new ArrayList<>(edges);
        sorted.sort(Comparator.<LineageGraph.Edge>comparingInt(
                        e -> Math.max(nearest.get(e.from()).depth(), nearest.get(e.to()).depth()))
                .thenComparing(LineageGraph.Edge::from)
                .thenComparing(LineageGraph.Edge::to)
                .thenComparing(LineageGraph.Edge::relation));
        return new LineageGraph(root, List.copyOf(nodes), List.copyOf(sorted), truncated);
    }

    /** One row of the walk: the node reached, its depth, and the edge that reached it (null at the root). */
    private record WalkRow(LineageGraph.Node node, LineageGraph.Edge edge) {

        static WalkRow map(ResultSet rs) throws SQLException {
            String sha256 = rs.getString("sha256");
            int depth = rs.getInt("depth");
            LineageGraph.Node node = sha256 != null
                    ? new LineageGraph.Node(LineageGraph.NodeKind.ARTIFACT, sha256, depth)
                    : new LineageGraph.Node(LineageGraph.NodeKind.TASK_RUN,
                            Long.toString(rs.getLong("task_run_id")), depth);
            String relation = rs.getString("edge_relation");
            if (relation == null) {
                return new WalkRow(node, null);
            }
            Relation r = Relation.fromSql(relation);
            String taskRun = Long.toString(rs.getLong("edge_task_run_id"));
            String artifact = rs.getString("edge_sha256");
            // Edges point the way data flowed: into the task run it used, out to what it generated.
            LineageGraph.Edge edge = r == Relation.USED
                    ? new LineageGraph.Edge(artifact, taskRun, r, rs.getString("edge_role"))
                    : new LineageGraph.Edge(taskRun, artifact, r, rs.getString("edge_role"));
            return new WalkRow(node, edge);
        }
    }
}
