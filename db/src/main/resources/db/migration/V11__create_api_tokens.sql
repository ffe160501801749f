-- API tokens: who a caller is and what they may do. Only the SHA-256 of a token is kept, so a
-- leaked table (or backup) does not hand out working credentials; the token itself is shown once,
-- when it is made.
CREATE TABLE api_tokens (
    token_sha256 text        PRIMARY KEY
        CONSTRAINT api_tokens_token_sha256_check CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    principal    text        NOT NULL,
    roles        text[]      NOT NULL
        CONSTRAINT api_tokens_roles_check
        CHECK (cardinality(roles) >= 1 AND roles <@ ARRAY['submitter', 'reviewer', 'admin']::text[]),
    label        text,
    created_by   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

-- "Which tokens does this person hold" (listing, revoking all of a person's tokens).
CREATE INDEX api_tokens_principal_idx ON api_tokens (principal);
