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

CREATE FUNCTION link_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO link_counts (account_id, shard, links)
            VALUES (NEW.account_id, pg_backend_pid() % 16, 1)
            ON CONFLICT (account_id, shard) DO UPDATE SET links = link_counts.links + 1;
    ELSE
        INSERT INTO link_counts (account_id, shard, links)
            VALUES (OLD.account_id, pg_backend_pid() % 16, -1)
            ON CONFLICT (account_id, shard) DO UPDATE SET links = link_counts.links - 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER links_count AFTER INSERT OR DELETE ON links
    FOR EACH ROW EXECUTE FUNCTION link_counts_track();
