-- W3C PROV edges between activities (task runs) and entities (artifacts): a task run "used" or
-- "generated" an artifact, in a role such as "model" or "calibration_data".
CREATE TABLE lineage_edges (
    task_run_id     bigint NOT NULL REFERENCES task_runs (id),
    artifact_sha256 text   NOT NULL REFERENCES artifacts (sha256),
    relation        text   NOT NULL
        CONSTRAINT lineage_edges_relation_check CHECK (relation IN ('used', 'generated')),
    role            text,
    PRIMARY KEY (task_run_id, artifact_sha256, relation)
);

-- The primary key serves walks that start at a task run; walks that start at an artifact
-- (every other step of an ancestry or descendants query) need this one.
CREATE INDEX lineage_edges_artifact_relation_idx ON lineage_edges (artifact_sha256, relation);
