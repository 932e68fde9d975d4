-- Links created per account and hour, kept exact by the triggers below, so the daily link
-- quota sums at most 25 counters instead of counting an account's last 24 hours of links
-- on every creation (up to the quota, 50,000 by default: the count grew with the
-- creator's own pace). The quota counts the window's first, partial hour from the links
-- themselves and the full hours after it from here. Shards are backends, as in 0021; old
-- hours are never read again, so nothing folds them.
CREATE TABLE link_hours (
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    hour            BIGINT NOT NULL,
    shard           INTEGER NOT NULL,
    links           BIGINT NOT NULL,
    PRIMARY KEY (account_id, hour, shard)
);

INSERT INTO link_hours (account_id, hour, shard, links)
    SELECT account_id, created_at / 3600000, 0, COUNT(*) FROM links
    WHERE created_at > (EXTRACT(EPOCH FROM now())::BIGINT - 2 * 86400) * 1000
    GROUP BY account_id, created_at / 3600000;

-- And link counts per statement instead of per row (issue #16). Group commit stores many links
-- in one multi-row INSERT; a row trigger ran a plpgsql call and a counter upsert for each of
-- them (about a third of a creation's database cost), and a bulk INSERT ... SELECT of
-- 100,000 links updated one counter row 100,000 times in one transaction, each update
-- walking the row's growing chain of versions. These triggers see the statement's rows
-- as a transition table and add each account's delta once.
--
-- PostgreSQL allows a transition table only on a trigger with one event and no column
-- list, hence three triggers, and the archive trigger runs for every UPDATE of links and
-- counts only the rows whose archived_at went from NULL to set or back.
DROP TRIGGER links_count ON links;
DROP FUNCTION link_counts_track();

-- Adds the deltas to this backend's counter row for the account; a backend counting for an
-- account for the first time folds in the rows of backends that have ended (as 0021 did).
CREATE FUNCTION link_counts_add(who TEXT, delta_links BIGINT, delta_archived BIGINT)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    me INTEGER := pg_backend_pid();
    fresh BOOLEAN;
BEGIN
    IF delta_links = 0 AND delta_archived = 0 THEN
        RETURN;
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
END;
$$;

-- Accounts in key order, so two statements spanning the same accounts lock their counter
-- rows in the same order.
CREATE FUNCTION link_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r RECORD;
BEGIN
    FOR r IN SELECT account_id, COUNT(*) AS n, COUNT(archived_at) AS a
             FROM new_links GROUP BY account_id ORDER BY account_id LOOP
        PERFORM link_counts_add(r.account_id, r.n, r.a);
    END LOOP;
    INSERT INTO link_hours AS h (account_id, hour, shard, links)
        SELECT account_id, created_at / 3600000, pg_backend_pid(), COUNT(*) FROM new_links
        GROUP BY account_id, created_at / 3600000 ORDER BY 1, 2
        ON CONFLICT (account_id, hour, shard) DO UPDATE SET links = h.links + excluded.links;
    RETURN NULL;
END;
$$;

CREATE FUNCTION link_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r RECORD;
BEGIN
    FOR r IN SELECT account_id, COUNT(*) AS n, COUNT(archived_at) AS a
             FROM old_links GROUP BY account_id ORDER BY account_id LOOP
        PERFORM link_counts_add(r.account_id, -r.n, -r.a);
    END LOOP;
    INSERT INTO link_hours AS h (account_id, hour, shard, links)
        SELECT account_id, created_at / 3600000, pg_backend_pid(), -COUNT(*) FROM old_links
        GROUP BY account_id, created_at / 3600000 ORDER BY 1, 2
        ON CONFLICT (account_id, hour, shard) DO UPDATE SET links = h.links + excluded.links;
    RETURN NULL;
END;
$$;

CREATE FUNCTION link_counts_archived() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r RECORD;
BEGIN
    FOR r IN SELECT n.account_id,
                    SUM((n.archived_at IS NOT NULL)::int - (o.archived_at IS NOT NULL)::int) AS a
             FROM new_links n JOIN old_links o ON o.id = n.id
             WHERE (n.archived_at IS NULL) <> (o.archived_at IS NULL)
             GROUP BY n.account_id ORDER BY n.account_id LOOP
        PERFORM link_counts_add(r.account_id, 0, r.a);
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE TRIGGER links_count_insert AFTER INSERT ON links
    REFERENCING NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION link_counts_inserted();
CREATE TRIGGER links_count_delete AFTER DELETE ON links
    REFERENCING OLD TABLE AS old_links
    FOR EACH STATEMENT EXECUTE FUNCTION link_counts_deleted();
CREATE TRIGGER links_count_archive AFTER UPDATE ON links
    REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION link_counts_archived();
