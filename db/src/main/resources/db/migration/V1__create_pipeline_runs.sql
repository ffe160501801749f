-- One row per pipeline run. The id is the Temporal workflow id, so the API can list runs from
-- PostgreSQL without Temporal visibility queries (the local dev server has none).
CREATE TABLE pipeline_runs (
    id           text        PRIMARY KEY,
    pipeline     text        NOT NULL,
    status       text        NOT NULL DEFAULT 'queued'
        CONSTRAINT pipeline_runs_status_check
        CHECK (status IN ('queued', 'running', 'success', 'failed', 'cancelled')),
    params       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    submitted_by text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    error        text
);

-- "Newest first, optionally by status" is the run list's only access path.
CREATE INDEX pipeline_runs_created_at_idx ON pipeline_runs (created_at DESC, id DESC);
CREATE INDEX pipeline_runs_status_created_at_idx ON pipeline_runs (status, created_at DESC, id DESC);
