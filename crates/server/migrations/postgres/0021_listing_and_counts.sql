-- The links in use (the default listing, which hides archived ones), newest first, from
-- the index alone: a page number walks this index without reading a table row per skipped
-- link to test archived_at.
CREATE INDEX links_live_idx ON links (account_id, id) WHERE archived_at IS NULL;

-- Counter shards per backend, not per `pg_backend_pid() % 16`: two of the pool's
-- connections often shared a shard, and then their creations queued on one counter row
-- across each other's commit (a WAL flush each). A backend runs one transaction at a
-- time, so its own row is never contended. Rows of backends that have ended are folded
-- into the new row when a backend first counts for an account (the old modulo shards
-- and the copied shard 0 included), so an account keeps about one row per live
-- connection and the sum stays exact: the fold moves counts inside the transaction.
CREATE OR REPLACE FUNCTION link_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta_links BIGINT := 0;
    delta_archived BIGINT := 0;
    who TEXT;
    me INTEGER := pg_backend_pid();
    fresh BOOLEAN;
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
    INSERT INTO link_counts AS c (account_id, shard, links, archived)
        VALUES (who, me, delta_links, delta_archived)
        ON CONFLICT (account_id, shard) DO UPDATE
        SET links = c.links + delta_links,
            archived = c.archived + delta_archived
        RETURNING c.xmax = 0 INTO fresh;
    IF fresh THEN
        WITH gone AS (
            DELETE FROM link_counts d
            WHERE d.account_id = who AND d.shard <> me
              AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = d.shard)
            RETURNING d.links, d.archived
        )
        UPDATE link_counts u
        SET links = u.links + (SELECT COALESCE(SUM(g.links), 0) FROM gone g),
            archived = u.archived + (SELECT COALESCE(SUM(g.archived), 0) FROM gone g)
        WHERE u.account_id = who AND u.shard = me;
    END IF;
    RETURN NULL;
END;
$$;
