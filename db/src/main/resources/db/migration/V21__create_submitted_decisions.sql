-- A reviewer's decision as Anvil's API authenticated it (principal, roles, time), written before the
-- run's workflow hears of it. The workflow's decide Update carries only the row's id, and the workflow
-- counts a decision only after an activity has read the row and checked it (its approval, the reviewer
-- role, four-eyes, unused), so whoever reaches Temporal but not the API cannot decide. The id is random
-- (a version 4 UUID: 122 random bits) and is never listed by the API.
CREATE TABLE submitted_decisions (
    id           text        PRIMARY KEY,
    approval_id  text        NOT NULL REFERENCES approvals (id),
    principal    text        NOT NULL,
    roles        text[]      NOT NULL,
    decision     text        NOT NULL
        CONSTRAINT submitted_decisions_decision_check CHECK (decision IN ('approve', 'reject')),
    comment      text,
    -- submitted: waiting for the workflow; accepted: counted; refused: checked and turned down (refusal says why)
    state        text        NOT NULL DEFAULT 'submitted'
        CONSTRAINT submitted_decisions_state_check CHECK (state IN ('submitted', 'accepted', 'refused')),
    refusal_type text,
    refusal      text,
    -- the activity execution that settled it: its retry gets the same answer, any other use is refused
    settled_by   text,
    submitted_at timestamptz NOT NULL DEFAULT now(),
    settled_at   timestamptz,
    CONSTRAINT submitted_decisions_settled_check
        CHECK ((state = 'submitted') = (settled_by IS NULL) AND (state = 'refused') = (refusal IS NOT NULL))
);

-- The decisions submitted on one approval (what a reviewer asked for, accepted or not).
CREATE INDEX submitted_decisions_approval_idx ON submitted_decisions (approval_id);
