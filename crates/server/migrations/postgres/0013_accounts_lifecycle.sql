-- Joining Quiver (issue 17): verified addresses, disabled accounts, single-use e-mail
-- tokens, API keys, session details, brand invitations and the throttle of e-mails sent.
-- Existing accounts (made by the CLI or the demo) count as verified.

ALTER TABLE accounts ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE accounts ADD COLUMN disabled_at BIGINT;

-- Verification, password-reset and e-mail-change links, stored as SHA-256 hashes.
CREATE TABLE account_tokens (
    token_hash      TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    purpose         TEXT NOT NULL CHECK (purpose IN ('verify', 'reset', 'email_change')),
    email           TEXT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX account_tokens_account_idx ON account_tokens (account_id, purpose);

CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    key_hash        TEXT NOT NULL,
    scope           TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT,
    last_used_at    BIGINT,
    revoked_at      BIGINT
);
CREATE UNIQUE INDEX api_keys_hash_key ON api_keys (key_hash);
CREATE INDEX api_keys_account_idx ON api_keys (account_id, created_at);

-- What a person sees of each login (a refresh-token family).
CREATE TABLE sessions (
    family          TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    client_ip       TEXT NOT NULL,
    user_agent      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT NOT NULL
);
CREATE INDEX sessions_account_idx ON sessions (account_id, created_at);

CREATE TABLE invitations (
    id              TEXT PRIMARY KEY,
    brand_id        TEXT NOT NULL REFERENCES brands (id),
    email           TEXT NOT NULL,
    token_hash      TEXT NOT NULL,
    commission_bps  INTEGER CHECK (commission_bps BETWEEN 0 AND 10000),
    message         TEXT NOT NULL,
    invited_by      TEXT REFERENCES accounts (id),
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    accepted_at     BIGINT,
    accepted_by     TEXT REFERENCES accounts (id),
    revoked_at      BIGINT
);
CREATE UNIQUE INDEX invitations_token_key ON invitations (token_hash);
CREATE INDEX invitations_brand_idx ON invitations (brand_id, created_at, id);

-- A brand's commission for one creator, from a day on: the per-creator rate history.
CREATE TABLE creator_commission_rates (
    brand_id        TEXT NOT NULL REFERENCES brands (id),
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    effective_day   TEXT NOT NULL,
    bps             INTEGER CHECK (bps BETWEEN 0 AND 10000),
    recorded_at     BIGINT NOT NULL,
    PRIMARY KEY (brand_id, account_id, effective_day)
);

-- Every sign-up, resend, reset and invitation e-mail asked for, by client address and by
-- target address, so the limits hold across processes.
CREATE TABLE mail_throttle (
    id              TEXT PRIMARY KEY,
    action          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    at              BIGINT NOT NULL
);
CREATE INDEX mail_throttle_idx ON mail_throttle (action, subject, at);
