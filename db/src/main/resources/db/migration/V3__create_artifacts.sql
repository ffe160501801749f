-- Content-addressed artifacts: the sha256 of the bytes is the key, so storing the same bytes twice
-- is one row. The bytes live in object storage at uri.
CREATE TABLE artifacts (
    sha256              text        PRIMARY KEY
        CONSTRAINT artifacts_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    uri                 text        NOT NULL,
    size_bytes          bigint      NOT NULL CONSTRAINT artifacts_size_bytes_check CHECK (size_bytes >= 0),
    media_type          text        NOT NULL,
    created_by_task_run bigint      REFERENCES task_runs (id),
    created_at          timestamptz NOT NULL DEFAULT now()
);
