package dev.anvil.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import javax.sql.DataSource;

/** Content-addressed artifacts. */
public final class ArtifactStore {

    private static final String TABLE = "artifacts";
    private static final String COLUMNS = "sha256, uri, size_bytes, media_type, created_by_task_run, created_at";

    private final Jdbc jdbc;

    public ArtifactStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /**
     * Stores an artifact and returns the stored row. Idempotent: the same bytes produced again (a
     * retry, or another task that made identical output) return the first row unchanged, since
     * the sha256 proves the content is the same.
     *
     * @param createdByTaskRun the task run that generated it, or null for uploads from outside
     */
    public Artifact insert(String sha256, String uri, long sizeBytes, String mediaType, Long createdByTaskRun) {
        Validate.sha256(TABLE, "insert", sha256);
        Validate.notNull(TABLE, "insert", "uri", uri);
        Validate.notNull(TABLE, "insert", "mediaType", mediaType);
        if (sizeBytes < 0) {
            throw DataAccessException.badInput(TABLE, "insert", "sizeBytes " + sizeBytes + " is negative");
        }
        return jdbc.withConnection(TABLE, "insert", c -> {
            try {
                Jdbc.update(c, "INSERT INTO artifacts (sha256, uri, size_bytes, media_type, created_by_task_run)"
                        + " VALUES (?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
                        sha256, uri, sizeBytes, mediaType, createdByTaskRun);
            } catch (SQLException e) {
                if (Jdbc.violates(e, "artifacts_created_by_task_run_fkey")) {
                    throw DataAccessException.badInput(TABLE, "insert", "createdByTaskRun " + createdByTaskRun
                            + " is not a task run; record the task run's start first", e);
                }
                throw e;
            }
            // A separate statement, so a row a concurrent writer committed meanwhile is visible.
            return find(c, sha256).orElseThrow();
        });
    }

    public Optional<Artifact> find(String sha256) {
        return jdbc.withConnection(TABLE, "find", c -> find(c, sha256));
    }

    private static Optional<Artifact> find(Connection c, String sha256) throws SQLException {
        return Jdbc.queryOne(c, "SELECT " + COLUMNS + " FROM artifacts WHERE sha256 = ?", ArtifactStore::map, sha256);
    }

    private static Artifact map(ResultSet rs) throws SQLException {
        return new Artifact(rs.getString("sha256"), rs.getString("uri"), rs.getLong("size_bytes"),
                rs.getString("media_type"), Jdbc.nullableLong(rs, "created_by_task_run"),
                Jdbc.instant(rs, "created_at"));
    }
}
