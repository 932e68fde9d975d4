-- Daily report facts pulled from Amazon Attribution: one row per day x link x sold ASIN
-- (a sold ASIN other than the link's is brand-halo activity). Rows are only ever inserted
-- or updated in place, never deleted, so a client paging through them never loses a row.
-- day is the integer YYYYMMDD of the date Amazon reports; money is minor units.
CREATE TABLE report_facts (
    account_id      TEXT NOT NULL,
    day             INTEGER NOT NULL,
    link_id         TEXT NOT NULL,
    asin            TEXT NOT NULL,
    marketplace     TEXT NOT NULL,
    brand_id        TEXT NOT NULL,
    seller_id       TEXT NOT NULL,
    clicks          BIGINT NOT NULL,
    dpv             BIGINT NOT NULL,
    atc             BIGINT NOT NULL,
    purchases       BIGINT NOT NULL,
    units           BIGINT NOT NULL,
    sales           BIGINT NOT NULL,
    brb             BIGINT NOT NULL,
    commission      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    -- The key is the publisher report's order, so a page is one index range read.
    PRIMARY KEY (account_id, day, link_id, asin)
) WITHOUT ROWID;
-- The seller report's order (day x product x marketplace x creator), grouped while read.
CREATE INDEX report_facts_seller_idx ON report_facts (seller_id, day, asin, marketplace, account_id);
-- Per-link lookups (link_ids filter, legacy single-link data).
CREATE INDEX report_facts_link_idx ON report_facts (link_id, day);

-- Row counts per publisher, day and marketplace, kept exact at ingest (facts are never
-- deleted, so a count only grows), so total_count is a sum over at most 366 x 9 rows.
CREATE TABLE report_day_counts (
    account_id      TEXT NOT NULL,
    day             INTEGER NOT NULL,
    marketplace     TEXT NOT NULL,
    row_count       BIGINT NOT NULL,
    PRIMARY KEY (account_id, day, marketplace)
);

-- The same for the seller report: distinct (product, creator) groups per seller and day.
CREATE TABLE seller_day_counts (
    seller_id       TEXT NOT NULL,
    day             INTEGER NOT NULL,
    marketplace     TEXT NOT NULL,
    row_count       BIGINT NOT NULL,
    PRIMARY KEY (seller_id, day, marketplace)
);

-- Ingestion progress per advertiser, region and report type: the last completed run,
-- and while a pull is unfinished, its window and the cursor of the next page to fetch.
CREATE TABLE ingest_state (
    region          TEXT NOT NULL,
    advertiser_id   TEXT NOT NULL,
    report          TEXT NOT NULL,
    last_success_at BIGINT,
    pending_start   INTEGER,
    pending_end     INTEGER,
    pending_cursor  TEXT,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (region, advertiser_id, report)
);

-- Leases for background jobs shared by several processes: claimed with
-- UPDATE ... WHERE expires_at < now, so at most one holder at a time.
CREATE TABLE job_leases (
    name            TEXT PRIMARY KEY,
    holder          TEXT NOT NULL,
    expires_at      BIGINT NOT NULL
);
