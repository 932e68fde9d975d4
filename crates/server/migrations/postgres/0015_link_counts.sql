-- Each account's number of links, kept exact by triggers in the transaction that inserts
-- or deletes the link, so a listing's total_count reads a few rows instead of counting
-- the account's links on every page. An account's total is the sum over its shards:
-- PostgreSQL writers each update the shard of their own backend, so concurrent creations
-- of one account never queue on one counter row; SQLite has one writer and uses shard 0.
-- `archived` counts the archived ones among them (migration 0012), so the default listing,
-- which leaves those out, reads its total here too.
CREATE TABLE link_counts (
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    shard           INTEGER NOT NULL,
    links           BIGINT NOT NULL,
    archived        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, shard)
);

INSERT INTO link_counts (account_id, shard, links, archived)
    SELECT account_id, 0, COUNT(*), COUNT(archived_at) FROM links GROUP BY account_id;

CREATE FUNCTION link_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta_links BIGINT := 0;
    delta_archived BIGINT := 0;
    who TEXT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        who := NEW.account_id;
        delta_links := 1;
        delta_archived := CASE WHEN NEW.archived_at IS NULL THEN 0 ELSE 1 END;
    ELSIF TG_OP = 'DELETE' THEN
        who := OLD.account_id;
        delta_links := -1;
        delta_archived := CASE WHEN OLD.archived_at IS NULL THEN 0 ELSE -1 END;
    ELSE
        who := NEW.account_id;
        delta_archived := (CASE WHEN NEW.archived_at IS NULL THEN 0 ELSE 1 END)
            - (CASE WHEN OLD.archived_at IS NULL THEN 0 ELSE 1 END);
        IF delta_archived = 0 THEN
            RETURN NULL;
        END IF;
    END IF;
    INSERT INTO link_counts (account_id, shard, links, archived)
        VALUES (who, pg_backend_pid() % 16, delta_links, delta_archived)
        ON CONFLICT (account_id, shard) DO UPDATE
        SET links = link_counts.links + delta_links,
            archived = link_counts.archived + delta_archived;
    RETURN NULL;
END;
$$;

CREATE TRIGGER links_count AFTER INSERT OR DELETE OR UPDATE OF archived_at ON links
    FOR EACH ROW EXECUTE FUNCTION link_counts_track();
