package dev.anvil.db;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** Registered pipelines and the versions of their specs. */
public final class PipelineStore {
    private static final String TABLE = "pipeline_versions";
    private static final String SELECT = "SELECT v.pipeline, v.version, v.spec, v.spec_sha256, p.paused, v.created_at,"
            + " v.registered_by"
            + " FROM pipeline_versions v JOIN pipelines p ON p.name = v.pipeline";

    private final Jdbc jdbc;

    public PipelineStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /**
     * Registers {@code spec} as the newest version of {@code pipeline}. Idempotent: a text already
     * registered for the pipeline returns its existing version instead of adding one (and keeps its
     * registrant, unless it had none).
     *
     * @param registeredBy the principal registering it; scheduled runs of the version are requested by them
     */
    public PipelineVersion register(String pipeline, String spec, String registeredBy) {
        Validate.notNull(TABLE, "register", "pipeline", pipeline);
        Validate.notNull(TABLE, "register", "spec", spec);
        Validate.notNull(TABLE, "register", "registeredBy", registeredBy);
        String sha = sha256(spec);
        return jdbc.inTransaction(TABLE, "register", c -> {
            Jdbc.update(c, "INSERT INTO pipelines (name) VALUES (?) ON CONFLICT (name) DO NOTHING", pipeline);
            // lock the pipeline row: concurrent registrations number versions one after another
            Jdbc.queryOne(c, "SELECT name FROM pipelines WHERE name = ? FOR UPDATE", rs -> rs.getString(1), pipeline);
            Optional<PipelineVersion> same = Jdbc.queryOne(c, SELECT + " WHERE v.pipeline = ? AND v.spec_sha256 = ?",
                    PipelineStore::map, pipeline, sha);
            if (same.isPresent()) {
                if (same.get().registeredBy() != null) {
                    return same.get();
                }
                // registered before registrants were recorded: whoever registers it now owns its schedule
                Jdbc.update(c, "UPDATE pipeline_versions SET registered_by = ? WHERE pipeline = ? AND version = ?",
                        registeredBy, pipeline, same.get().version());
                return Jdbc.queryOne(c, SELECT + " WHERE v.pipeline = ? AND v.version = ?", PipelineStore::map,
                        pipeline, same.get().version()).orElseThrow();
            }
            Jdbc.update(c, "INSERT INTO pipeline_versions (pipeline, version, spec, spec_sha256, registered_by)"
                    + " SELECT ?, COALESCE(MAX(version), 0) + 1, ?, ?, ? FROM pipeline_versions WHERE pipeline = ?",
                    pipeline, spec, sha, registeredBy, pipeline);
            return latest(c, pipeline).orElseThrow();
        });
    }

    public Optional<PipelineVersion> latest(String pipeline) {
        return jdbc.withConnection(TABLE, "latest", c -> latest(c, pipeline));
    }

    public Optional<PipelineVersion> find(String pipeline, int version) {
        return jdbc.withConnection(TABLE, "find", c -> Jdbc.queryOne(c,
                SELECT + " WHERE v.pipeline = ? AND v.version = ?", PipelineStore::map, pipeline, version));
    }

    /** The newest version of every pipeline, by name. */
    public List<PipelineVersion> listLatest() {
        return jdbc.withConnection(TABLE, "list", c -> Jdbc.query(c, SELECT
                + " WHERE v.version = (SELECT MAX(version) FROM pipeline_versions w WHERE w.pipeline = v.pipeline)"
                + " ORDER BY v.pipeline", PipelineStore::map));
    }

    public List<PipelineVersion> versions(String pipeline) {
        return jdbc.withConnection(TABLE, "versions", c -> Jdbc.query(c,
                SELECT + " WHERE v.pipeline = ? ORDER BY v.version DESC", PipelineStore::map, pipeline));
    }

    /** Pauses or unpauses a pipeline's schedule; false when there is no such pipeline. */
    public boolean setPaused(String pipeline, boolean paused) {
        return jdbc.withConnection(TABLE, "pause", c ->
                Jdbc.update(c, "UPDATE pipelines SET paused = ? WHERE name = ?", paused, pipeline) == 1);
    }

    private static Optional<PipelineVersion> latest(Connection c, String pipeline) throws SQLException {
        return Jdbc.queryOne(c, SELECT + " WHERE v.pipeline = ? ORDER BY v.version DESC LIMIT 1",
                PipelineStore::map, pipeline);
    }

    private static PipelineVersion map(ResultSet rs) throws SQLException {
        return new PipelineVersion(rs.getString("pipeline"), rs.getInt("version"), rs.getString("spec"),
                rs.getString("spec_sha256"), rs.getBoolean("paused"), Jdbc.instant(rs, "created_at"),
                rs.getString("registered_by"));
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }
}
