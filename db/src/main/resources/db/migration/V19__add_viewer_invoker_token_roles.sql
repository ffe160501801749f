-- Reading the API needs a token: the viewer role reads (every other role implies it), the invoker role
-- calls inference on endpoints that are not public.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_roles_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_roles_check
    CHECK (cardinality(roles) >= 1 AND roles <@ ARRAY['viewer', 'submitter', 'reviewer', 'admin', 'invoker']::text[]);
