-- Who did what to which subject. Append-only: reviewers and auditors must be able to trust that
-- no row was changed or removed after the fact, so the database itself refuses it.
CREATE TABLE audit_log (
    id              bigserial   PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor           text        NOT NULL,
    action          text        NOT NULL,
    subject         text        NOT NULL,
    details         jsonb,
    -- Set by writers that may retry (activities), so a retry does not log the event twice.
    idempotency_key text        CONSTRAINT audit_log_idempotency_key_key UNIQUE
);

CREATE INDEX audit_log_subject_at_idx ON audit_log (subject, at DESC);

CREATE FUNCTION audit_log_reject_change() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING HINT = 'Record a correction as a new audit_log row instead.';
END;
$$;

CREATE TRIGGER audit_log_no_update_or_delete
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_reject_change();

-- Row triggers do not fire on TRUNCATE, so it needs its own statement-level trigger.
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_reject_change();
