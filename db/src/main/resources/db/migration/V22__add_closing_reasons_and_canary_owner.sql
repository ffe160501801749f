-- What a crash leaves behind is closed with a reason a person can read, and a canary belongs to
-- the rollout that set it.
--
-- rollouts: a rollout whose workflow failed or was lost ends 'failed' (it is no longer active, so
-- the endpoint is free for another rollout), and reason says why any rollout ended.
ALTER TABLE rollouts DROP CONSTRAINT rollouts_state_check;
ALTER TABLE rollouts
    ADD CONSTRAINT rollouts_state_check
        CHECK (state IN ('running', 'paused', 'promoted', 'rolled_back', 'aborted', 'failed')),
    ADD COLUMN reason text;

-- approvals: why an approval left 'pending' without reviewers deciding (its run ended or was lost).
ALTER TABLE approvals ADD COLUMN reason text;

-- endpoints: the rollout that manages the canary (NULL for a canary set by hand). A rollout changes
-- only a canary it owns, so a retried or second rollout never adopts a canary at another's weight.
ALTER TABLE endpoints ADD COLUMN canary_rollout text,
    ADD CONSTRAINT endpoints_canary_rollout_needs_canary CHECK (canary_version IS NOT NULL OR canary_rollout IS NULL);
