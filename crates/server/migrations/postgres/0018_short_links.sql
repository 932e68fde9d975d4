-- Short links and Quiver's own click counts (Quiver addition, issue #19).
-- short_code: the random code of the link's short URL (/r/{code}); links made before this
-- migration get theirs from `quiver serve` at start (codes come from a CSPRNG, which
-- neither engine's SQL offers), so the column stays nullable. source and sub_id: the
-- creator's own labels for where a link is posted. The same statements on both engines
-- keep their schemas identical.
ALTER TABLE links ADD COLUMN short_code TEXT;
ALTER TABLE links ADD COLUMN source TEXT;
ALTER TABLE links ADD COLUMN sub_id TEXT;
CREATE UNIQUE INDEX links_short_code_idx ON links (short_code);
CREATE INDEX links_account_source_idx ON links (account_id, source);
-- A bulk item's labels, kept until its link is made.
ALTER TABLE bulk_items ADD COLUMN source TEXT;
ALTER TABLE bulk_items ADD COLUMN sub_id TEXT;

-- Counted clicks, aggregated: one row per link x UTC hour (epoch ms of its start) x device
-- class x referrer host x country. Every writer adds to a row (upsert), never sets it, so
-- several processes add up exactly. No address or user agent is kept.
CREATE TABLE link_clicks (
    link_id         TEXT NOT NULL,
    hour_start      BIGINT NOT NULL,
    device          TEXT NOT NULL,
    referrer        TEXT NOT NULL,
    country         TEXT NOT NULL,
    clicks          BIGINT NOT NULL,
    PRIMARY KEY (link_id, hour_start, device, referrer, country)
);
CREATE INDEX link_clicks_hour_idx ON link_clicks (hour_start);

-- Requests to a short URL that were not counted, by why: bot, preview, prefetch, head,
-- repeat.
CREATE TABLE link_clicks_filtered (
    link_id         TEXT NOT NULL,
    hour_start      BIGINT NOT NULL,
    reason          TEXT NOT NULL,
    requests        BIGINT NOT NULL,
    PRIMARY KEY (link_id, hour_start, reason)
);
