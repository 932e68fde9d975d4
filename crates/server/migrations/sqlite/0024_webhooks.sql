-- Webhooks (issue #21). An outbox: `webhook_events` and their `webhook_deliveries` are
-- written in the same transaction as the change that causes them, and the delivery job
-- sends them later, claiming each delivery with a lease so several processes never send
-- one twice at once. Instants are milliseconds since the epoch.
CREATE TABLE webhook_endpoints (
    id                      TEXT PRIMARY KEY,
    account_id              TEXT NOT NULL REFERENCES accounts (id),
    url                     TEXT NOT NULL,
    description             TEXT NOT NULL DEFAULT '',
    -- JSON array of event type names, e.g. ["link.created","ping"].
    events                  TEXT NOT NULL,
    enabled                 BOOLEAN NOT NULL DEFAULT TRUE,
    -- Sealed with the server secret key, AAD "webhook-secret:{id}".
    secret_sealed           TEXT NOT NULL,
    -- The secret before the last rotation: it keeps signing too until previous_until.
    previous_secret_sealed  TEXT,
    previous_until          BIGINT,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL,
    disabled_at             BIGINT,
    -- Set by the first failed attempt after a success; cleared by a success.
    failing_since           BIGINT
);
CREATE INDEX webhook_endpoints_account_idx ON webhook_endpoints (account_id, created_at, id);

CREATE TABLE webhook_events (
    id                      TEXT PRIMARY KEY,
    account_id              TEXT NOT NULL REFERENCES accounts (id),
    type                    TEXT NOT NULL,
    -- The body sent: {"type", "timestamp", "data"}.
    payload                 TEXT NOT NULL,
    created_at              BIGINT NOT NULL
);
CREATE INDEX webhook_events_account_idx ON webhook_events (account_id, created_at);

CREATE TABLE webhook_deliveries (
    id                      TEXT PRIMARY KEY,
    event_id                TEXT NOT NULL REFERENCES webhook_events (id),
    endpoint_id             TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    -- pending: not tried yet; failed: the last attempt failed and another is scheduled;
    -- delivered: a 2xx; gave_up: every scheduled attempt failed.
    status                  TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'gave_up')),
    attempts                INTEGER NOT NULL DEFAULT 0,
    -- When the next attempt is due; NULL once delivered or given up.
    next_attempt_at         BIGINT,
    lease_owner             TEXT,
    -- A process sending it holds it until then; 0 when nobody does.
    lease_until             BIGINT NOT NULL DEFAULT 0,
    last_status_code        INTEGER,
    last_error              TEXT,
    last_latency_ms         BIGINT,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL,
    UNIQUE (event_id, endpoint_id)
);
-- The delivery job's claim: due work in creation order, and whether an endpoint has a
-- delivery in flight (its deliveries go one at a time, in order).
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, created_at);
CREATE INDEX webhook_deliveries_lease_idx ON webhook_deliveries (endpoint_id, lease_until);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at, id);

CREATE TABLE webhook_attempts (
    id                      TEXT PRIMARY KEY,
    delivery_id             TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt                 INTEGER NOT NULL,
    at                      BIGINT NOT NULL,
    status_code             INTEGER,
    latency_ms              BIGINT NOT NULL,
    error                   TEXT,
    -- When the delivery is tried again after this attempt; NULL when it is not.
    next_attempt_at         BIGINT,
    UNIQUE (delivery_id, attempt)
);
