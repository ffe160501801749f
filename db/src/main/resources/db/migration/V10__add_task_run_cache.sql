-- Step caching: a task attempt records the key of its inputs (operator, resolved parameters, input
-- artifacts' sha256); a later task with the same key reuses the outputs of the earlier success
-- instead of running, and points at it.
ALTER TABLE task_runs ADD COLUMN cache_key text CHECK (cache_key ~ '^[0-9a-f]{64}$');
ALTER TABLE task_runs ADD COLUMN cached_from bigint REFERENCES task_runs (id);
CREATE INDEX task_runs_cache_key_success_idx ON task_runs (cache_key, id DESC) WHERE status = 'success';
