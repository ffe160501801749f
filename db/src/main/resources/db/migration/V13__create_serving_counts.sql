-- The gateway's cumulative per-version counters, one row per serving process. API pods serve traffic
-- and worker pods run rollouts: a rollout reads the sum over processes, so it sees traffic wherever it
-- was served. Counters only grow while a process lives; a restarted process writes new rows.
CREATE TABLE serving_counts (
    endpoint        text        NOT NULL,
    version         integer     NOT NULL,
    process_id      text        NOT NULL,
    requests        bigint      NOT NULL CONSTRAINT serving_counts_requests_check CHECK (requests >= 0),
    errors          bigint      NOT NULL CONSTRAINT serving_counts_errors_check CHECK (errors BETWEEN 0 AND requests),
    -- requests per latency bucket (the rollout's fixed bucket bounds), cumulative like the totals
    latency_buckets bigint[]    NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (endpoint, version, process_id)
);
