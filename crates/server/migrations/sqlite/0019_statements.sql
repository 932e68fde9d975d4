-- Monthly statements (issue #20): one per brand x creator x UTC month x currency. While
-- `open` its lines are read from report_facts; on `final` they are copied into
-- statement_lines and never change again. Money is minor units; month is YYYYMM.
CREATE TABLE statements (
    id                  TEXT PRIMARY KEY,
    seller_id           TEXT NOT NULL REFERENCES accounts (id),
    brand_id            TEXT NOT NULL REFERENCES brands (id),
    account_id          TEXT NOT NULL REFERENCES accounts (id),
    month               INTEGER NOT NULL,
    currency            TEXT NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('open', 'final', 'approved', 'paid', 'void')),
    -- The frozen sum of the lines; 0 while open (an open statement sums its facts when read).
    commission          BIGINT NOT NULL,
    adjustments_total   BIGINT NOT NULL,
    payout_id           TEXT,
    void_reason         TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    -- Two processes creating the same month's statements make one row (ON CONFLICT DO NOTHING).
    UNIQUE (brand_id, account_id, month, currency)
);
CREATE INDEX statements_seller_idx ON statements (seller_id, month, id);
CREATE INDEX statements_account_idx ON statements (account_id, month, id);
CREATE INDEX statements_state_idx ON statements (state, month);

CREATE TABLE statement_lines (
    statement_id        TEXT NOT NULL REFERENCES statements (id),
    day                 INTEGER NOT NULL,
    link_id             TEXT NOT NULL,
    asin                TEXT NOT NULL,
    marketplace         TEXT NOT NULL,
    units               BIGINT NOT NULL,
    sales               BIGINT NOT NULL,
    commission          BIGINT NOT NULL,
    PRIMARY KEY (statement_id, day, link_id, asin)
);

CREATE TABLE statement_adjustments (
    id                  TEXT PRIMARY KEY,
    statement_id        TEXT NOT NULL REFERENCES statements (id),
    amount              BIGINT NOT NULL,
    reason              TEXT NOT NULL,
    actor_public_id     TEXT NOT NULL,
    at                  BIGINT NOT NULL
);
CREATE INDEX statement_adjustments_idx ON statement_adjustments (statement_id, at, id);

-- Every state change of a statement, with who made it ('system' for finalisation).
CREATE TABLE statement_events (
    id                  TEXT PRIMARY KEY,
    statement_id        TEXT NOT NULL REFERENCES statements (id),
    state               TEXT NOT NULL,
    actor_public_id     TEXT NOT NULL,
    note                TEXT,
    at                  BIGINT NOT NULL
);
CREATE INDEX statement_events_idx ON statement_events (statement_id, at, id);

-- A payment the brand recorded (Quiver moves no money), for approved statements of one
-- seller and one currency.
CREATE TABLE payouts (
    id                  TEXT PRIMARY KEY,
    seller_id           TEXT NOT NULL REFERENCES accounts (id),
    currency            TEXT NOT NULL,
    total               BIGINT NOT NULL,
    paid_at             BIGINT NOT NULL,
    method              TEXT NOT NULL,
    reference           TEXT NOT NULL,
    created_by          TEXT NOT NULL,
    created_at          BIGINT NOT NULL
);
CREATE INDEX payouts_seller_idx ON payouts (seller_id, created_at, id);

-- Where a creator wants to be paid.
CREATE TABLE payout_details (
    account_id          TEXT PRIMARY KEY REFERENCES accounts (id),
    method              TEXT NOT NULL CHECK (method IN ('paypal', 'other')),
    paypal_email        TEXT,
    reference           TEXT,
    updated_at          BIGINT NOT NULL
);
