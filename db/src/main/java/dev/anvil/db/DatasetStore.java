package dev.anvil.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** Named datasets and their numbered versions, each an artifact checked when it was registered. */
public final class DatasetStore {
    private static final String TABLE = "dataset_versions";
    private static final String SELECT = "SELECT dataset, version, artifact_sha256, format, inputs::text AS inputs,"
            + " sample_count, has_labels, created_by, created_at FROM dataset_versions";

    private final Jdbc jdbc;

    public DatasetStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /**
     * Registers the artifact as the next version of {@code dataset} (1 for a new name). Every registration
     * is a new version, even of bytes registered before: a version is an event pipelines may trigger on.
     * The artifact row must exist.
     */
    public DatasetVersion register(String dataset, String artifactSha256, String format, String inputsJson,
                                   long sampleCount, boolean hasLabels, String createdBy) {
        Validate.notNull(TABLE, "register", "dataset", dataset);
        Validate.notNull(TABLE, "register", "artifactSha256", artifactSha256);
        Validate.notNull(TABLE, "register", "format", format);
        Validate.notNull(TABLE, "register", "inputsJson", inputsJson);
        Validate.notNull(TABLE, "register", "createdBy", createdBy);
        return jdbc.inTransaction(TABLE, "register", c -> {
            Jdbc.update(c, "INSERT INTO datasets (name) VALUES (?) ON CONFLICT (name) DO NOTHING", dataset);
            // lock the dataset row: concurrent registrations number versions one after another
            Jdbc.queryOne(c, "SELECT name FROM datasets WHERE name = ? FOR UPDATE", rs -> rs.getString(1), dataset);
            Jdbc.update(c, "INSERT INTO dataset_versions (dataset, version, artifact_sha256, format, inputs,"
                    + " sample_count, has_labels, created_by)"
                    + " SELECT ?, COALESCE(MAX(version), 0) + 1, ?, ?, ?::json, ?, ?, ? FROM dataset_versions"
                    + " WHERE dataset = ?",
                    dataset, artifactSha256, format, inputsJson, sampleCount, hasLabels, createdBy, dataset);
            return latest(c, dataset).orElseThrow();
        });
    }

    public Optional<DatasetVersion> latest(String dataset) {
        return jdbc.withConnection(TABLE, "latest", c -> latest(c, dataset));
    }

    public Optional<DatasetVersion> find(String dataset, int version) {
        return jdbc.withConnection(TABLE, "find", c -> Jdbc.queryOne(c,
                SELECT + " WHERE dataset = ? AND version = ?", DatasetStore::map, dataset, version));
    }

    /** The newest version of every dataset, by name. */
    public List<DatasetVersion> listLatest() {
        return jdbc.withConnection(TABLE, "list", c -> Jdbc.query(c, SELECT + " v"
                + " WHERE v.version = (SELECT MAX(version) FROM dataset_versions w WHERE w.dataset = v.dataset)"
                + " ORDER BY v.dataset", DatasetStore::map));
    }

    /** Every version of {@code dataset}, newest first; empty when there is no such dataset. */
    public List<DatasetVersion> versions(String dataset) {
        return jdbc.withConnection(TABLE, "versions", c -> Jdbc.query(c,
                SELECT + " WHERE dataset = ? ORDER BY version DESC", DatasetStore::map, dataset));
    }

    private static Optional<DatasetVersion> latest(Connection c, String dataset) throws SQLException {
        return Jdbc.queryOne(c, SELECT + " WHERE dataset = ? ORDER BY version DESC LIMIT 1", DatasetStore::map, dataset);
    }

    private static DatasetVersion map(ResultSet rs) throws SQLException {
        return new DatasetVersion(rs.getString("dataset"), rs.getInt("version"), rs.getString("artifact_sha256"),
                rs.getString("format"), rs.getString("inputs"), rs.getLong("sample_count"),
                rs.getBoolean("has_labels"), rs.getString("created_by"), Jdbc.instant(rs, "created_at"));
    }
}
