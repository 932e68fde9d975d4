-- Each account's number of links, kept exact by triggers in the transaction that inserts
-- or deletes the link, so a listing's total_count reads a few rows instead of counting
-- the account's links on every page. An account's total is the sum over its shards:
-- PostgreSQL writers each update the shard of their own backend, so concurrent creations
-- of one account never queue on one counter row; SQLite has one writer and uses shard 0.
CREATE TABLE link_counts (
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    shard           INTEGER NOT NULL,
    links           BIGINT NOT NULL,
    PRIMARY KEY (account_id, shard)
);

INSERT INTO link_counts (account_id, shard, links)
    SELECT account_id, 0, COUNT(*) FROM links GROUP BY account_id;

CREATE TRIGGER links_count_insert AFTER INSERT ON links
BEGIN
    INSERT INTO link_counts (account_id, shard, links) VALUES (NEW.account_id, 0, 1)
        ON CONFLICT (account_id, shard) DO UPDATE SET links = links + 1;
END;

CREATE TRIGGER links_count_delete AFTER DELETE ON links
BEGIN
    INSERT INTO link_counts (account_id, shard, links) VALUES (OLD.account_id, 0, -1)
        ON CONFLICT (account_id, shard) DO UPDATE SET links = links - 1;
END;
