-- Every analysed window of a canary rollout, one row per model version it compared (the canary and
-- the stable version), so the whole history of a rollout outlives its workflow; rollouts.analysis
-- keeps only the latest window. A window is written again whenever an activity is retried, so
-- (rollout_id, window_no, role) is the key and a second write changes nothing.
CREATE TABLE rollout_windows (
    rollout_id  text             NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
    window_no   integer          NOT NULL CONSTRAINT rollout_windows_window_no_check CHECK (window_no >= 1),
    role        text             NOT NULL CONSTRAINT rollout_windows_role_check CHECK (role IN ('canary', 'stable')),
    -- NULL for the stable side of a model's first rollout (there is no stable version)
    version     integer,
    weight      integer          NOT NULL CONSTRAINT rollout_windows_weight_check CHECK (weight BETWEEN 0 AND 100),
    requests    bigint           NOT NULL CONSTRAINT rollout_windows_requests_check CHECK (requests >= 0),
    errors      bigint           NOT NULL CONSTRAINT rollout_windows_errors_check CHECK (errors BETWEEN 0 AND requests),
    -- NULL when the version served no request in the window: nothing was measured
    error_rate  double precision,
    p95_ms      double precision,
    verdict     text             NOT NULL
        CONSTRAINT rollout_windows_verdict_check CHECK (verdict IN ('pass', 'fail', 'inconclusive')),
    reason      text             NOT NULL,
    analysed_at timestamptz      NOT NULL,
    PRIMARY KEY (rollout_id, window_no, role),
    CONSTRAINT rollout_windows_measured_when_served
        CHECK ((requests = 0) = (error_rate IS NULL) AND (requests > 0 OR p95_ms IS NULL))
);
