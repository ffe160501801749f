-- A retry (POST /api/runs/{id}/retry, Airflow's clear) of a run whose pipeline has max_active_runs waits for a
-- slot like a new run: its row says it is a retry, and from which task (null: the tasks that did not succeed), so
-- that admission starts the retry's plan (successful tasks kept) rather than a fresh run.
ALTER TABLE pipeline_run_waits
    ADD COLUMN retry      boolean NOT NULL DEFAULT false,
    ADD COLUMN retry_from text;

-- When a failed or cancelled run was last reopened for a retry. Its workflow id is the run's, so Temporal still
-- holds the execution that ended; the retry's execution carries this instant in its memo (anvil.reopenedAt), which
-- tells the two apart without comparing two services' clocks (RunLauncher, RunReconciler).
ALTER TABLE pipeline_runs ADD COLUMN reopened_at timestamptz;
