-- Runs after every migrate (a Flyway callback, so a role created or renamed later still gets its
-- grants), as the owner role that owns the tables. Gives the application's role (placeholder
-- app_role, from ANVIL_DB_USER) the rows it works with and nothing more: it cannot ALTER or DROP a
-- table, switch a trigger off, or UPDATE, DELETE or TRUNCATE audit_log, whose rows it may only
-- append and read. Default privileges cover the tables and sequences later migrations create.
--
-- With one role for both (no ANVIL_DB_OWNER_USER), app_role is empty and this does nothing: that
-- role owns every table, and Anvil warns at start-up that the audit log is not protected from it.
DO $grant$
DECLARE
    app text := '${app_role}';
    history text := '${flyway:table}';
BEGIN
    IF app = '' OR app = current_user THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app) THEN
        RAISE EXCEPTION 'the application''s database role "%" (ANVIL_DB_USER) does not exist', app
            USING HINT = format('Create it as a database administrator (CREATE ROLE %I LOGIN PASSWORD ''...'')'
                || ' and start Anvil again; migrations run as %I and grant it what it needs.', app, current_user);
    END IF;

    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', app);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', app);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', app);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', app);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO %I', app);

    -- The audit log is appended to and read, never changed (V8, V15).
    EXECUTE format('REVOKE ALL ON audit_log FROM %I', app);
    EXECUTE format('GRANT SELECT, INSERT ON audit_log TO %I', app);
    -- Which migrations ran is the owner's record.
    EXECUTE format('REVOKE ALL ON %I FROM %I', history, app);
    EXECUTE format('GRANT SELECT ON %I TO %I', history, app);

    -- No objects of other roles in the schema the owner's migrations resolve names in (a function
    -- planted there could run with the owner's rights). PostgreSQL 15+ creates the schema so; on
    -- older servers only the schema's owner may revoke it (the local stack makes the owner role that).
    IF pg_has_role(current_user, (SELECT nspowner FROM pg_namespace WHERE nspname = 'public'), 'USAGE') THEN
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    END IF;
END
$grant$;
