-- What the Airflow-compatible API (/api/v2) keeps about a run that pipeline_runs has no column for: the
-- logical date a caller gave when triggering it by hand, and the run's note (Airflow's DAG run note).
-- At most one row per run, written only through /api/v2; a scheduled run's tick stays in its id.
CREATE TABLE pipeline_run_notes (
    run_id       text        PRIMARY KEY REFERENCES pipeline_runs (id),
    logical_date timestamptz,
    note         text
        CONSTRAINT pipeline_run_notes_note_check CHECK (char_length(note) <= 1000),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
