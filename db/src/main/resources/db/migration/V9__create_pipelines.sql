-- Registered pipeline specs. Every PUT of a changed spec adds a version; runs name the version
-- they ran, so a spec edit never rewrites what an old run did.
CREATE TABLE pipelines (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    paused      boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pipeline_versions (
    pipeline    text NOT NULL REFERENCES pipelines (name),
    version     integer NOT NULL CHECK (version > 0),
    spec        text NOT NULL,
    spec_sha256 text NOT NULL CHECK (spec_sha256 ~ '^[0-9a-f]{64}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pipeline, version),
    UNIQUE (pipeline, spec_sha256)
);

ALTER TABLE pipeline_runs ADD COLUMN pipeline_version integer;
CREATE INDEX pipeline_runs_pipeline_created_at_idx ON pipeline_runs (pipeline, created_at DESC);
