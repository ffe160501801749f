-- Who registered each pipeline version (the principal of the PUT). Runs a schedule starts by itself
-- are requested by the registrant of the version they run, so the four-eyes rule has a person to
-- compare reviewers against. Versions registered before this column are NULL: their scheduled runs
-- do not start until someone registers the spec again (the same text fills in the registrant).
ALTER TABLE pipeline_versions ADD COLUMN registered_by text;
