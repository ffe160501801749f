-- Canary rollouts of a model version behind a gateway endpoint. weight is the percentage of
-- traffic the candidate receives.
CREATE TABLE rollouts (
    id                text        PRIMARY KEY,
    endpoint          text        NOT NULL,
    model             text        NOT NULL,
    stable_version    integer,
    candidate_version integer     NOT NULL,
    state             text        NOT NULL DEFAULT 'running'
        CONSTRAINT rollouts_state_check
        CHECK (state IN ('running', 'paused', 'promoted', 'rolled_back', 'aborted')),
    weight            integer     NOT NULL DEFAULT 0
        CONSTRAINT rollouts_weight_check CHECK (weight BETWEEN 0 AND 100),
    analysis          jsonb,
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    CONSTRAINT rollouts_candidate_version_fkey
        FOREIGN KEY (model, candidate_version) REFERENCES model_versions (model, version),
    CONSTRAINT rollouts_stable_version_fkey
        FOREIGN KEY (model, stable_version) REFERENCES model_versions (model, version)
);

-- The gateway routes by the endpoint's active rollout; two at once would make routing ambiguous.
CREATE UNIQUE INDEX rollouts_one_active_per_endpoint_idx ON rollouts (endpoint)
    WHERE state IN ('running', 'paused');
