-- Which model artifacts each serving process has loaded, or failed to load. A rollout (on any process,
-- worker pods included) changes an endpoint here, then waits until a serving process reports the new
-- version loaded; worker processes load no sessions themselves. A live process re-touches its rows on
-- every gateway refresh, so rows of a process that died without cleaning up grow old and are ignored.
CREATE TABLE serving_sessions (
    process_id text        NOT NULL,
    sha256     text        NOT NULL CONSTRAINT serving_sessions_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    state      text        NOT NULL CONSTRAINT serving_sessions_state_check CHECK (state IN ('loaded', 'failed')),
    error      text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (process_id, sha256)
);

-- Every change to an endpoint (REST, a rollout on a worker pod, a promotion) tells the serving processes
-- at once, so they re-read their routes without waiting for their periodic refresh.
CREATE FUNCTION notify_endpoint_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('anvil_endpoints', COALESCE(NEW.name, OLD.name));
    RETURN NULL;
END;
$$;

CREATE TRIGGER endpoints_changed AFTER INSERT OR UPDATE OR DELETE ON endpoints
    FOR EACH ROW EXECUTE FUNCTION notify_endpoint_change();
