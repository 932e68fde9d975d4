-- The creator–brand relationship (#15): a creator's public profile that brands see on
-- requests and grants, and the reason a brand may give when it declines a request.

CREATE TABLE creator_profiles (
    account_id      TEXT PRIMARY KEY REFERENCES accounts (id),
    -- A short pitch to brands, up to 1,000 characters.
    pitch           TEXT NOT NULL,
    -- JSON array of {"name", "url"}, at most 10 entries; validated by the server.
    channels_json   TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- Empty when the brand gave no reason, and for approvals.
ALTER TABLE access_requests ADD COLUMN decision_reason TEXT NOT NULL DEFAULT '';
