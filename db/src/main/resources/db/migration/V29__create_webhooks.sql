-- Registry events and the webhooks that subscribe to them. An event is written in the same transaction as
-- the change it reports (a version registered, an alias moved, an approval opened or decided, a rollout
-- promoted or rolled back, drift detected), with one pending delivery per subscribed webhook: an outbox, so an
-- event is never lost between the change and its delivery, nor sent for a change that was rolled back.
-- A dispatcher starts one Temporal workflow per delivery (state dispatched), which POSTs it, retrying with
-- back-off, each attempt logged in webhook_attempts, until it is delivered or it gives up (failed).
CREATE TABLE webhooks (
    id          text        PRIMARY KEY
        CONSTRAINT webhooks_id_check CHECK (id ~ '^wh_[0-9a-f]{16}$'),
    url         text        NOT NULL
        CONSTRAINT webhooks_url_check CHECK (url ~* '^https?://'),
    events      text[]      NOT NULL
        CONSTRAINT webhooks_events_check CHECK (cardinality(events) > 0),
    -- the HMAC key deliveries are signed with: it must be kept as it is to sign, and is shown once, at creation
    secret      text        NOT NULL,
    description text,
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_events (
    id          bigserial   PRIMARY KEY,
    type        text        NOT NULL,
    subject     text        NOT NULL,
    payload     jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    id           bigserial   PRIMARY KEY,
    webhook_id   text        NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id     bigint      NOT NULL REFERENCES webhook_events (id),
    state        text        NOT NULL DEFAULT 'pending'
        CONSTRAINT webhook_deliveries_state_check CHECK (state IN ('pending', 'dispatched', 'delivered', 'failed')),
    error        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    CONSTRAINT webhook_deliveries_once UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, id);

-- one row per HTTP attempt (keyed by the Temporal activity attempt, so a retried recording changes the row)
CREATE TABLE webhook_attempts (
    delivery_id  bigint      NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt      integer     NOT NULL,
    status_code  integer,
    error        text,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
