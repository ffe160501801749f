-- Chains audit_log rows: each row stores the hash of the row before it (prev_hash) and its own
-- hash = sha256(prev_hash || canonical row content), both as lowercase hex. Editing or deleting a
-- row, even by someone who can switch the append-only triggers off, breaks the chain at that row
-- and GET /api/audit/verify names it. The hash is computed by AuditLogStore (AuditChain), which
-- appends under an advisory lock so concurrent writers keep one chain.
--
-- Rows written before this migration keep NULL hashes: the chain starts at the first row after
-- it. Verification accepts unhashed rows only before the first hashed row and reports them as
-- unchained.
ALTER TABLE audit_log
    ADD COLUMN prev_hash text,
    ADD COLUMN hash      text,
    ADD CONSTRAINT audit_log_hashes_both_or_neither CHECK ((prev_hash IS NULL) = (hash IS NULL)),
    ADD CONSTRAINT audit_log_hashes_are_sha256_hex CHECK (hash ~ '^[0-9a-f]{64}$' AND prev_hash ~ '^[0-9a-f]{64}$');
