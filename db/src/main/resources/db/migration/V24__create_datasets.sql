-- Registered datasets: each POST /api/datasets adds the next version of a name. The bytes are an
-- artifact (application/vnd.anvil.dataset+zip) named by sha256; a row records what was checked when it
-- was registered (format, per-input dtype and per-sample shape, sample count, labels), so pipelines and
-- retraining triggers can rely on it without opening the zip.
CREATE TABLE datasets (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dataset_versions (
    dataset         text        NOT NULL REFERENCES datasets (name),
    version         integer     NOT NULL CHECK (version > 0),
    artifact_sha256 text        NOT NULL REFERENCES artifacts (sha256),
    -- the importer that built it: mnist, csv, text, npy or images
    format          text        NOT NULL,
    -- {"<input>": {"dtype": "float32", "shape": [1, 28, 28]}, ...}: one sample's shape, in archive order (json, not jsonb, keeps that order)
    inputs          json        NOT NULL,
    sample_count    bigint      NOT NULL CHECK (sample_count > 0),
    has_labels      boolean     NOT NULL,
    created_by      text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dataset, version)
);

CREATE INDEX dataset_versions_artifact_idx ON dataset_versions (artifact_sha256);
