-- Tasks handed to an external training service (the external operator): the service calls back with an opaque
-- token; only its sha256 is kept (id), so a read of this table cannot complete a task. The row maps the token to
-- the attempt and to Temporal's own task token, which is never shown to the service. state: waiting until the
-- service completes or fails it, or a later attempt of the same task supersedes it.
CREATE TABLE external_tasks (
    id            text        PRIMARY KEY
        CONSTRAINT external_tasks_id_check CHECK (id ~ '^[0-9a-f]{64}$'),
    run_id        text        NOT NULL REFERENCES pipeline_runs (id),
    task_id       text        NOT NULL,
    attempt       integer     NOT NULL,
    task_run_id   bigint      NOT NULL REFERENCES task_runs (id),
    service       text        NOT NULL,
    temporal_task_token bytea NOT NULL,
    state         text        NOT NULL DEFAULT 'waiting'
        CONSTRAINT external_tasks_state_check CHECK (state IN ('waiting', 'completed', 'failed', 'superseded', 'expired')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE INDEX external_tasks_run_task_idx ON external_tasks (run_id, task_id);
