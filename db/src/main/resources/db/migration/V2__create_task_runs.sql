-- One row per task attempt. UNIQUE(run_id, task_id, attempt) is the idempotency key: a retried
-- activity that records its start again finds its own row instead of adding one.
-- Statuses are Airflow's task-instance states, so the Airflow-compatible API needs no mapping.
CREATE TABLE task_runs (
    id          bigserial   PRIMARY KEY,
    run_id      text        NOT NULL REFERENCES pipeline_runs (id),
    task_id     text        NOT NULL,
    attempt     integer     NOT NULL CONSTRAINT task_runs_attempt_check CHECK (attempt >= 1),
    operator    text        NOT NULL,
    status      text        NOT NULL DEFAULT 'running'
        CONSTRAINT task_runs_status_check
        CHECK (status IN ('queued', 'running', 'success', 'failed', 'up_for_retry',
                          'upstream_failed', 'skipped')),
    parameters  jsonb       NOT NULL DEFAULT '{}'::jsonb,
    metrics     jsonb,
    error       text,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    CONSTRAINT task_runs_run_task_attempt_key UNIQUE (run_id, task_id, attempt)
);
