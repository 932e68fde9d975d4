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

CREATE TRIGGER links_count_insert AFTER INSERT ON links
BEGIN
    INSERT INTO link_counts (account_id, shard, links, archived)
        VALUES (NEW.account_id, 0, 1, NEW.archived_at IS NOT NULL)
        ON CONFLICT (account_id, shard) DO UPDATE
        SET links = links + 1, archived = archived + (NEW.archived_at IS NOT NULL);
END;

CREATE TRIGGER links_count_delete AFTER DELETE ON links
BEGIN
    INSERT INTO link_counts (account_id, shard, links, archived)
        VALUES (OLD.account_id, 0, -1, -(OLD.archived_at IS NOT NULL))
        ON CONFLICT (account_id, shard) DO UPDATE
        SET links = links - 1, archived = archived - (OLD.archived_at IS NOT NULL);
END;

CREATE TRIGGER links_count_archive AFTER UPDATE OF archived_at ON links
    WHEN (OLD.archived_at IS NULL) <> (NEW.archived_at IS NULL)
BEGIN
    INSERT INTO link_counts (account_id, shard, links, archived)
        VALUES (NEW.account_id, 0, 0, CASE WHEN NEW.archived_at IS NULL THEN -1 ELSE 1 END)
        ON CONFLICT (account_id, shard) DO UPDATE
        SET archived = archived + CASE WHEN NEW.archived_at IS NULL THEN -1 ELSE 1 END;
END;
