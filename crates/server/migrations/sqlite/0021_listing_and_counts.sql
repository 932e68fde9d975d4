-- The links in use (the default listing, which hides archived ones), newest first, from
-- the index alone: a page number walks this index without reading a table row per skipped
-- link to test archived_at.
CREATE INDEX links_live_idx ON links (account_id, id) WHERE archived_at IS NULL;
