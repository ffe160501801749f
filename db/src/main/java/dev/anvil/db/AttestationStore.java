package dev.anvil.db;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import javax.sql.DataSource;

/** Signed provenance of published artifacts, one envelope per artifact and task attempt. */
public final class AttestationStore {
    private static final String TABLE = "attestations";

    private final Jdbc jdbc;

    public AttestationStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /**
     * Stores the envelope. Idempotent per task attempt: a retried activity signing again (ECDSA
     * signatures differ each time) keeps the envelope recorded first.
     *
     * @return whether this call stored it
     */
    public boolean record(String artifactSha256, long taskRunId, String envelopeJson) {
        Validate.sha256(TABLE, "record", artifactSha256);
        Validate.notNull(TABLE, "record", "envelopeJson", envelopeJson);
        return jdbc.withConnection(TABLE, "record", c -> {
            try {
                return Jdbc.update(c, "INSERT INTO attestations (artifact_sha256, task_run_id, envelope)"
                        + " VALUES (?, ?, ?::jsonb) ON CONFLICT DO NOTHING", artifactSha256, taskRunId, envelopeJson) == 1;
            } catch (SQLException e) {
                if (Jdbc.violates(e, "attestations_task_run_id_fkey")) {
                    throw DataAccessException.badInput(TABLE, "record", "no task run with id " + taskRunId
                            + "; record the task run's start before attesting its outputs", e);
                }
                if (Jdbc.violates(e, "attestations_artifact_sha256_fkey")) {
                    throw DataAccessException.badInput(TABLE, "record", "artifact " + artifactSha256
                            + " is not in artifacts; insert the artifact before its attestation", e);
                }
                throw e;
            }
        });
    }

    /** The attestations of an artifact, oldest first. */
    public List<Attestation> forArtifact(String artifactSha256) {
        return jdbc.query(TABLE, "for artifact", "SELECT artifact_sha256, task_run_id, envelope::text AS envelope, created_at"
                + " FROM attestations WHERE artifact_sha256 = ? ORDER BY created_at, task_run_id",
                AttestationStore::map, Validate.sha256(TABLE, "for artifact", artifactSha256));
    }

    private static Attestation map(ResultSet rs) throws SQLException {
        return new Attestation(rs.getString("artifact_sha256"), rs.getLong("task_run_id"), rs.getString("envelope"),
                Jdbc.instant(rs, "created_at"));
    }
}
