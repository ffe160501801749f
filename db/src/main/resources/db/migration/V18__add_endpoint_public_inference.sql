-- Inference is closed by default: a caller needs the invoker role, unless the endpoint's owner marks it
-- public (PUT /api/endpoints/{name} with "public": true). Endpoints that existed before become closed.
ALTER TABLE endpoints ADD COLUMN public_inference boolean NOT NULL DEFAULT false;
