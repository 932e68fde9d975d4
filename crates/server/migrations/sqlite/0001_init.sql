-- Accounts, tokens, catalog and links. Timestamps are epoch milliseconds; ids are text
-- (UUIDv7 or slugs) so the same SQL runs on SQLite and PostgreSQL.

CREATE TABLE accounts (
    id              TEXT PRIMARY KEY,
    public_id       TEXT NOT NULL,
    email           TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('publisher', 'seller', 'admin')),
    display_name    TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX accounts_email_key ON accounts (email);
CREATE UNIQUE INDEX accounts_public_id_key ON accounts (public_id);

CREATE TABLE tokens (
    token_hash      TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    kind            TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    family          TEXT NOT NULL,
    expires_at      BIGINT NOT NULL,
    revoked_at      BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX tokens_family_idx ON tokens (family);
CREATE INDEX tokens_expires_idx ON tokens (expires_at);

CREATE TABLE login_failures (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL,
    client_ip       TEXT NOT NULL,
    at              BIGINT NOT NULL
);
CREATE INDEX login_failures_username_idx ON login_failures (username, at);
CREATE INDEX login_failures_ip_idx ON login_failures (client_ip, at);

CREATE TABLE brands (
    id                      TEXT PRIMARY KEY,
    owner_account_id        TEXT NOT NULL REFERENCES accounts (id),
    name                    TEXT NOT NULL,
    company_name            TEXT NOT NULL,
    logo_url                TEXT NOT NULL,
    program_mode            TEXT NOT NULL CHECK (program_mode IN ('open', 'approval')),
    default_commission_bps  INTEGER NOT NULL CHECK (default_commission_bps BETWEEN 0 AND 10000),
    created_at              BIGINT NOT NULL
);
CREATE INDEX brands_owner_idx ON brands (owner_account_id);

-- A brand's Amazon Ads identity, per region.
CREATE TABLE brand_amazon_accounts (
    brand_id        TEXT NOT NULL REFERENCES brands (id),
    region          TEXT NOT NULL CHECK (region IN ('NA', 'EU', 'FE')),
    profile_id      TEXT NOT NULL,
    advertiser_id   TEXT NOT NULL,
    PRIMARY KEY (brand_id, region)
);

CREATE TABLE products (
    asin                TEXT NOT NULL,
    marketplace         TEXT NOT NULL,
    brand_id            TEXT NOT NULL REFERENCES brands (id),
    title               TEXT NOT NULL,
    price_minor         BIGINT NOT NULL CHECK (price_minor >= 0),
    available           BOOLEAN NOT NULL,
    status_reason       TEXT,
    image_url           TEXT NOT NULL,
    rating_centi        INTEGER NOT NULL,
    ratings_total       BIGINT NOT NULL,
    category            TEXT NOT NULL,
    sub_categories      TEXT NOT NULL,
    is_variant_of       TEXT,
    collection_name     TEXT,
    commission_bps      INTEGER CHECK (commission_bps BETWEEN 0 AND 10000),
    deal_base_minor     BIGINT,
    deal_sale_minor     BIGINT,
    deal_final_minor    BIGINT,
    deal_discount_bps   INTEGER,
    updated_at          BIGINT NOT NULL,
    PRIMARY KEY (asin, marketplace)
);
CREATE INDEX products_listing_idx ON products (brand_id, asin, marketplace);

CREATE TABLE grants (
    brand_id        TEXT NOT NULL REFERENCES brands (id),
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    granted_at      BIGINT NOT NULL,
    revoked_at      BIGINT,
    PRIMARY KEY (brand_id, account_id)
);

CREATE TABLE links (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    asin            TEXT NOT NULL,
    marketplace     TEXT NOT NULL,
    brand_id        TEXT NOT NULL REFERENCES brands (id),
    link_name       TEXT NOT NULL,
    url             TEXT NOT NULL,
    ad_group_id     TEXT NOT NULL,
    campaign_id     TEXT NOT NULL,
    product_name    TEXT NOT NULL,
    active          BOOLEAN NOT NULL,
    paused_at       BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX links_ad_group_key ON links (ad_group_id);
CREATE INDEX links_account_idx ON links (account_id, id);
CREATE INDEX links_account_asin_idx ON links (account_id, asin, id);

-- Only successful responses are remembered, so a retry after a failure is attempted again.
CREATE TABLE idempotency_keys (
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    idem_key        TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    link_id         TEXT NOT NULL REFERENCES links (id),
    response_body   TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, idem_key)
);

-- Last known Amazon tag templates, so a restart keeps a warm cache through an outage.
CREATE TABLE tag_templates (
    region          TEXT NOT NULL,
    profile_id      TEXT NOT NULL,
    advertiser_id   TEXT NOT NULL,
    publisher_id    TEXT NOT NULL,
    template        TEXT NOT NULL,
    fetched_at      BIGINT NOT NULL,
    PRIMARY KEY (region, profile_id, advertiser_id, publisher_id)
);
