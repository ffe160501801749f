-- Signed provenance: for every artifact a task run published, a DSSE envelope holding an in-toto
-- Statement with an SLSA Provenance predicate, signed with the platform's key. One per artifact and
-- task attempt: a retried activity recording it again keeps the first.
CREATE TABLE attestations (
    artifact_sha256 text        NOT NULL REFERENCES artifacts (sha256),
    task_run_id     bigint      NOT NULL REFERENCES task_runs (id),
    envelope        jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (artifact_sha256, task_run_id)
);
