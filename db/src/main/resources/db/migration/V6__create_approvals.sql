-- Human approval gates: one approval per gated task, and one decision per reviewer.
CREATE TABLE approvals (
    id                 text        PRIMARY KEY,
    run_id             text        NOT NULL REFERENCES pipeline_runs (id),
    task_id            text        NOT NULL,
    state              text        NOT NULL DEFAULT 'pending'
        CONSTRAINT approvals_state_check
        CHECK (state IN ('pending', 'approved', 'rejected', 'expired')),
    required_approvals integer     NOT NULL DEFAULT 1
        CONSTRAINT approvals_required_approvals_check CHECK (required_approvals >= 1),
    requested_by       text,
    requested_at       timestamptz NOT NULL DEFAULT now(),
    decided_at         timestamptz
);

-- Reviewers look for pending approvals; decided ones are only read by id.
CREATE INDEX approvals_pending_idx ON approvals (requested_at) WHERE state = 'pending';

CREATE TABLE approval_decisions (
    approval_id text        NOT NULL REFERENCES approvals (id),
    reviewer    text        NOT NULL,
    decision    text        NOT NULL
        CONSTRAINT approval_decisions_decision_check CHECK (decision IN ('approve', 'reject')),
    comment     text,
    decided_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT approval_decisions_approval_reviewer_key UNIQUE (approval_id, reviewer)
);
