-- Archiving a link (Quiver addition): hidden from the default link list and the web app's
-- pickers. The link keeps working and reporting; archived_at is when it was archived, and
-- NULL for a link in use. The same statement on both engines keeps their schemas identical.
ALTER TABLE links ADD COLUMN archived_at BIGINT;
