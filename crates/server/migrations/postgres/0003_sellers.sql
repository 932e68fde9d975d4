-- The seller side: publishers' requests for access to approval-mode brands, and an audit
-- log of every change a seller makes (brand settings, commissions, grants, decisions).

CREATE TABLE access_requests (
    id              TEXT PRIMARY KEY,
    brand_id        TEXT NOT NULL REFERENCES brands (id),
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    message         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
    created_at      BIGINT NOT NULL,
    decided_at      BIGINT,
    decided_by      TEXT REFERENCES accounts (id)
);
-- At most one pending request per publisher and brand; a decided one may be followed by a new one.
CREATE UNIQUE INDEX access_requests_pending_key ON access_requests (brand_id, account_id) WHERE status = 'pending';
CREATE INDEX access_requests_account_idx ON access_requests (account_id, created_at, id);
CREATE INDEX access_requests_brand_idx ON access_requests (brand_id, status, created_at, id);

CREATE TABLE seller_audit (
    id                  TEXT PRIMARY KEY,
    actor_account_id    TEXT NOT NULL REFERENCES accounts (id),
    actor_public_id     TEXT NOT NULL,
    brand_id            TEXT NOT NULL REFERENCES brands (id),
    action              TEXT NOT NULL,
    target              TEXT NOT NULL,
    before_json         TEXT,
    after_json          TEXT,
    at                  BIGINT NOT NULL
);
CREATE INDEX seller_audit_brand_idx ON seller_audit (brand_id, at, id);
CREATE INDEX seller_audit_actor_idx ON seller_audit (actor_account_id, at, id);
