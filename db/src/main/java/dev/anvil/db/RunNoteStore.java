package dev.anvil.db;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * A run's logical date given by hand and its note (pipeline_run_notes, V25): what Airflow's DAG runs carry and
 * Anvil's run record does not. Written by the Airflow-compatible API only.
 */
public final class RunNoteStore {
    private static final String TABLE = "pipeline_run_notes";

    /** @param logicalDate null when the trigger gave none; @param note null when there is none */
    public record RunNote(String runId, Instant logicalDate, String note) {}

    private final Jdbc jdbc;

    public RunNoteStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /** Records what a trigger gave, once per run: a retried call leaves the first row as it is. */
    public void recordTrigger(String runId, Instant logicalDate, String note) {
        Validate.notNull(TABLE, "record trigger", "runId", runId);
        jdbc.withConnection(TABLE, "record trigger", c -> Jdbc.update(c, "INSERT INTO pipeline_run_notes"
                + " (run_id, logical_date, note) VALUES (?, ?, ?) ON CONFLICT (run_id) DO NOTHING", runId, logicalDate, note));
    }

    /** Sets (or, with null, clears) the run's note, keeping its logical date. */
    public void setNote(String runId, String note) {
        Validate.notNull(TABLE, "set note", "runId", runId);
        jdbc.withConnection(TABLE, "set note", c -> Jdbc.update(c, "INSERT INTO pipeline_run_notes (run_id, note)"
                + " VALUES (?, ?) ON CONFLICT (run_id) DO UPDATE SET note = EXCLUDED.note, updated_at = now()",
                runId, note));
    }

    public Optional<RunNote> find(String runId) {
        return jdbc.queryOne(TABLE, "find", "SELECT run_id, logical_date, note FROM pipeline_run_notes WHERE run_id = ?",
                RunNoteStore::map, runId);
    }

    /** Every run's, by run id: the lists of the Airflow API read them all at once. */
    public Map<String, RunNote> all() {
        List<RunNote> rows = jdbc.query(TABLE, "list", "SELECT run_id, logical_date, note FROM pipeline_run_notes",
                RunNoteStore::map);
        Map<String, RunNote> byRun = new LinkedHashMap<>();
        rows.forEach(r -> byRun.put(r.runId(), r));
        return byRun;
    }

    private static RunNote map(ResultSet rs) throws SQLException {
        return new RunNote(rs.getString("run_id"), Jdbc.instant(rs, "logical_date"), rs.getString("note"));
    }
}
