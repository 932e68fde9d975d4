-- Every commission rate ever set, with the first UTC day it applies to (a change takes
-- effect the next day). asin = '' and marketplace = '' is the brand default; a product
-- override with bps NULL clears the override from that day.
CREATE TABLE commission_rates (
    brand_id        TEXT NOT NULL REFERENCES brands (id),
    asin            TEXT NOT NULL,
    marketplace     TEXT NOT NULL,
    effective_day   TEXT NOT NULL,
    bps             INTEGER CHECK (bps BETWEEN 0 AND 10000),
    recorded_at     BIGINT NOT NULL,
    PRIMARY KEY (brand_id, asin, marketplace, effective_day)
);
