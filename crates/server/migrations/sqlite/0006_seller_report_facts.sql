-- The seller report pre-aggregated: one row per seller x day x product x marketplace x
-- creator, kept equal to the sum of its facts by adding each fact's change at ingest, so a
-- seller page reads its rows directly instead of summing hundreds of link facts per row.
CREATE TABLE seller_report_facts (
    seller_id       TEXT NOT NULL,
    day             INTEGER NOT NULL,
    asin            TEXT NOT NULL,
    marketplace     TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    brand_id        TEXT NOT NULL,
    clicks          BIGINT NOT NULL,
    dpv             BIGINT NOT NULL,
    atc             BIGINT NOT NULL,
    purchases       BIGINT NOT NULL,
    units           BIGINT NOT NULL,
    sales           BIGINT NOT NULL,
    brb             BIGINT NOT NULL,
    commission      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (seller_id, day, asin, marketplace, account_id)
) WITHOUT ROWID;

INSERT INTO seller_report_facts (seller_id, day, asin, marketplace, account_id, brand_id, clicks, dpv, atc,
    purchases, units, sales, brb, commission, updated_at)
SELECT seller_id, day, asin, marketplace, account_id, MIN(brand_id), CAST(SUM(clicks) AS BIGINT),
    CAST(SUM(dpv) AS BIGINT), CAST(SUM(atc) AS BIGINT), CAST(SUM(purchases) AS BIGINT), CAST(SUM(units) AS BIGINT),
    CAST(SUM(sales) AS BIGINT), CAST(SUM(brb) AS BIGINT), CAST(SUM(commission) AS BIGINT), MAX(updated_at)
FROM report_facts GROUP BY seller_id, day, asin, marketplace, account_id;

-- The seller report no longer reads facts in this order; only link filters read facts.
DROP INDEX report_facts_seller_idx;
