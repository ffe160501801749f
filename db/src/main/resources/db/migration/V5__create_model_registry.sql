-- Registered models, their numbered versions (each one artifact) and movable aliases such as
-- "production" that the inference gateway resolves.
CREATE TABLE models (
    name        text        PRIMARY KEY,
    description text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE model_versions (
    model               text        NOT NULL REFERENCES models (name),
    version             integer     NOT NULL CONSTRAINT model_versions_version_check CHECK (version >= 1),
    artifact_sha256     text        NOT NULL REFERENCES artifacts (sha256),
    created_by_task_run bigint      REFERENCES task_runs (id),
    metadata            jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model, version),
    -- Registering the same bytes twice under one model is a retry, not a new version.
    CONSTRAINT model_versions_model_artifact_key UNIQUE (model, artifact_sha256)
);

CREATE TABLE model_aliases (
    model      text        NOT NULL,
    alias      text        NOT NULL,
    version    integer     NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model, alias),
    -- An alias can only point at a version that exists.
    CONSTRAINT model_aliases_version_fkey
        FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
);
