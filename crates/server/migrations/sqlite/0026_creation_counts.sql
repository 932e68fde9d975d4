-- Links created per account and hour, kept exact by triggers like link_counts (0015), so
-- the daily link quota sums at most 25 counters instead of counting an account's last
-- 24 hours of links on every creation (up to the quota, 50,000 by default: the count grew
-- with the creator's own pace). The quota counts the window's first, partial hour from
-- the links themselves and the full hours after it from here.
--
-- PostgreSQL's twin also replaces its row-level link-count trigger with statement-level
-- ones; SQLite's row triggers run inside the engine without a procedure call, and its one
-- writer never contends for a counter row, so they stay.
CREATE TABLE link_hours (
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    hour            BIGINT NOT NULL,
    shard           INTEGER NOT NULL,
    links           BIGINT NOT NULL,
    PRIMARY KEY (account_id, hour, shard)
);

INSERT INTO link_hours (account_id, hour, shard, links)
    SELECT account_id, created_at / 3600000, 0, COUNT(*) FROM links
    WHERE created_at > (CAST(strftime('%s', 'now') AS INTEGER) - 2 * 86400) * 1000
    GROUP BY account_id, created_at / 3600000;

CREATE TRIGGER links_hour_insert AFTER INSERT ON links
BEGIN
    INSERT INTO link_hours (account_id, hour, shard, links)
        VALUES (NEW.account_id, NEW.created_at / 3600000, 0, 1)
        ON CONFLICT (account_id, hour, shard) DO UPDATE SET links = links + 1;
END;

CREATE TRIGGER links_hour_delete AFTER DELETE ON links
BEGIN
    UPDATE link_hours SET links = links - 1
        WHERE account_id = OLD.account_id AND hour = OLD.created_at / 3600000 AND shard = 0;
END;
