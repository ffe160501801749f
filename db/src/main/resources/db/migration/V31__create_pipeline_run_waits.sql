-- Runs of a pipeline with max_active_runs that found it at its limit: the run row is queued, its workflow not
-- started, and this row keeps what the start needs later (the schedule tick, whether caching is on). A run is
-- waiting while admitted_at is null; admission (RunAdmissionStore.admit) stamps admitted_at under the
-- pipeline's lock and the row is deleted once the workflow started, so a process that died in between leaves a
-- stamped row the next sweep starts. Active runs are the pipeline's queued and running runs without a waiting row.
CREATE TABLE pipeline_run_waits (
    run_id          text        PRIMARY KEY REFERENCES pipeline_runs (id),
    pipeline        text        NOT NULL,
    -- the limit the pipeline had when the run was queued (messages; admission reads the newest spec)
    max_active_runs integer     NOT NULL CONSTRAINT pipeline_run_waits_max_active_runs_check CHECK (max_active_runs >= 1),
    logical_date    text,
    use_cache       boolean     NOT NULL DEFAULT true,
    queued_at       timestamptz NOT NULL DEFAULT now(),
    admitted_at     timestamptz
);

CREATE INDEX pipeline_run_waits_pipeline_idx ON pipeline_run_waits (pipeline, queued_at, run_id);
