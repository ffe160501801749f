-- Serving endpoints of the inference gateway: the name clients call, the registered model version
-- it serves (stable) and optionally a canary version with its percentage of traffic.
CREATE TABLE endpoints (
    name           text        PRIMARY KEY,
    model          text        NOT NULL,
    stable_version integer     NOT NULL,
    canary_version integer,
    canary_weight  integer     NOT NULL DEFAULT 0
        CONSTRAINT endpoints_canary_weight_check CHECK (canary_weight BETWEEN 0 AND 100),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT endpoints_stable_version_fkey
        FOREIGN KEY (model, stable_version) REFERENCES model_versions (model, version),
    CONSTRAINT endpoints_canary_version_fkey
        FOREIGN KEY (model, canary_version) REFERENCES model_versions (model, version),
    -- a weight without a canary would send traffic nowhere
    CONSTRAINT endpoints_canary_weight_needs_canary CHECK (canary_version IS NOT NULL OR canary_weight = 0),
    CONSTRAINT endpoints_canary_differs_check CHECK (canary_version IS DISTINCT FROM stable_version)
);
