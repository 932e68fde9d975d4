-- A brand's own Login with Amazon authorisation, per region (#18). The refresh token is
-- sealed with the server's secret key (AES-256-GCM, base64; the brand and region are the
-- associated data), never stored in clear. Profile and advertiser are chosen after consent.
CREATE TABLE amazon_connections (
    brand_id              TEXT NOT NULL REFERENCES brands (id),
    region                TEXT NOT NULL CHECK (region IN ('NA', 'EU', 'FE')),
    status                TEXT NOT NULL CHECK (status IN ('connected', 'reconnect_needed')),
    refresh_token_sealed  TEXT NOT NULL,
    profile_id            TEXT,
    advertiser_id         TEXT,
    connected_at          BIGINT NOT NULL,
    last_ok_at            BIGINT,
    last_error            TEXT,
    -- When the owner was told it needs reconnecting (one e-mail per breakage).
    notified_at           BIGINT,
    PRIMARY KEY (brand_id, region)
);

-- The `state` of a consent in flight: stored as a SHA-256 hash, single use, bound to the
-- seller and brand, expiring after 10 minutes.
CREATE TABLE amazon_connect_states (
    state_hash   TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    brand_id     TEXT NOT NULL REFERENCES brands (id),
    region       TEXT NOT NULL CHECK (region IN ('NA', 'EU', 'FE')),
    expires_at   BIGINT NOT NULL
);
CREATE INDEX amazon_connect_states_expiry_idx ON amazon_connect_states (expires_at);
