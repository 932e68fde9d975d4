-- Changes made with `quiver admin` are audited too, under the actor 'admin-cli', which is
-- no account: actor_account_id becomes nullable. SQLite cannot drop a NOT NULL in place,
-- so the table is rebuilt (no table references it) with the same columns and indexes.
CREATE TABLE seller_audit_rebuilt (
    id                  TEXT PRIMARY KEY,
    actor_account_id    TEXT REFERENCES accounts (id),
    actor_public_id     TEXT NOT NULL,
    brand_id            TEXT NOT NULL REFERENCES brands (id),
    action              TEXT NOT NULL,
    target              TEXT NOT NULL,
    before_json         TEXT,
    after_json          TEXT,
    at                  BIGINT NOT NULL
);
INSERT INTO seller_audit_rebuilt (id, actor_account_id, actor_public_id, brand_id, action, target,
    before_json, after_json, at)
SELECT id, actor_account_id, actor_public_id, brand_id, action, target, before_json, after_json, at
FROM seller_audit;
DROP TABLE seller_audit;
ALTER TABLE seller_audit_rebuilt RENAME TO seller_audit;
CREATE INDEX seller_audit_brand_idx ON seller_audit (brand_id, at, id);
CREATE INDEX seller_audit_actor_idx ON seller_audit (actor_account_id, at, id);
