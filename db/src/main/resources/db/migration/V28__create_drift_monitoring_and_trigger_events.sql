-- Drift monitoring and event-triggered runs.
--
-- serving_drift_windows: what each serving process samples of an endpoint version's traffic, published
-- like serving_counts (one row per process, replaced on each publish): a bounded reservoir of input rows,
-- a fixed-size histogram per feature and the predicted-class counts. A drift check reads every process's row.
CREATE TABLE serving_drift_windows (
    endpoint      text        NOT NULL,
    version       integer     NOT NULL,
    process_id    text        NOT NULL,
    -- rows offered to the reservoir so far (the sample holds at most its capacity of them)
    seen          bigint      NOT NULL CONSTRAINT serving_drift_windows_seen_check CHECK (seen >= 0),
    -- the sampled input: its name and the names of the features a row is flattened to
    input_name    text        NOT NULL,
    features      json        NOT NULL,
    -- [[f0, f1, ...], ...]: the reservoir's rows
    sample        json        NOT NULL,
    -- [[count per LogHistogram bin], ...]: one per feature
    histograms    json        NOT NULL,
    -- requests answered per predicted class index
    class_counts  bigint[]    NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (endpoint, version, process_id)
);

-- Every drift check's report; one per task attempt of a run (a retried activity finds its row). The single
-- place a detection is recorded: DriftReportStore.record, called by DriftEvents.record.
CREATE TABLE drift_reports (
    id                bigserial   PRIMARY KEY,
    endpoint          text        NOT NULL,
    version           integer     NOT NULL,
    reference_dataset text        NOT NULL,
    reference_version integer     NOT NULL,
    drifted           boolean     NOT NULL,
    moved_features    text[]      NOT NULL,
    report            jsonb       NOT NULL,
    run_id            text        NOT NULL,
    task_id           text        NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT drift_reports_task_key UNIQUE (run_id, task_id)
);

CREATE INDEX drift_reports_endpoint_idx ON drift_reports (endpoint, created_at DESC, id DESC);

-- Events that start pipelines (schedule.on): a drift report with drifted = true, or a new dataset version.
-- One row per pipeline and event: the key is what makes the run unique, and the run id is derived from it,
-- so the same event seen twice starts one run. started_at stays null until the run was started, so a
-- process that died in between leaves a row the next sweep starts.
CREATE TABLE pipeline_trigger_events (
    pipeline    text        NOT NULL,
    event_key   text        NOT NULL,
    kind        text        NOT NULL CONSTRAINT pipeline_trigger_events_kind_check CHECK (kind IN ('drift', 'dataset')),
    subject     text        NOT NULL,
    details     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    run_id      text        NOT NULL CONSTRAINT pipeline_trigger_events_run_key UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    error       text,
    PRIMARY KEY (pipeline, event_key)
);

CREATE INDEX pipeline_trigger_events_pending_idx ON pipeline_trigger_events (created_at) WHERE started_at IS NULL;
