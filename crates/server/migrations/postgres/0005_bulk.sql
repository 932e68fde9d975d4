-- Bulk link generation: a durable job queue. One row per job, one per submitted item.
-- Workers (any number of processes on this database) claim pending items with a lease;
-- an item's link and its 'done' mark are written in one transaction, so it is done once.

CREATE TABLE bulk_jobs (
    id                  TEXT PRIMARY KEY,
    account_id          TEXT NOT NULL REFERENCES accounts (id),
    email               TEXT NOT NULL,
    total               BIGINT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done')),
    created_at          BIGINT NOT NULL,
    started_at          BIGINT,
    finished_at         BIGINT,
    -- none: no SMTP configured when the job finished; pending: to send; sent; failed.
    email_status        TEXT NOT NULL CHECK (email_status IN ('none', 'pending', 'sent', 'failed')),
    email_attempts      INTEGER NOT NULL,
    email_next_at       BIGINT NOT NULL,
    email_error         TEXT,
    email_claimed_by    TEXT,
    email_lease_until   BIGINT
);
CREATE INDEX bulk_jobs_account_idx ON bulk_jobs (account_id, id);
CREATE INDEX bulk_jobs_status_idx ON bulk_jobs (status, email_status);

CREATE TABLE bulk_items (
    job_id          TEXT NOT NULL REFERENCES bulk_jobs (id),
    position        INTEGER NOT NULL,
    -- The input as submitted (ASIN and name as given; marketplace already normalised).
    asin            TEXT NOT NULL,
    marketplace     TEXT NOT NULL,
    link_name       TEXT,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'done', 'error')),
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_by      TEXT,
    lease_until     BIGINT,
    link_id         TEXT REFERENCES links (id),
    url             TEXT,
    error           TEXT,
    processed_by    TEXT,
    finished_at     BIGINT,
    PRIMARY KEY (job_id, position)
);
-- Claiming scans pending items in job order.
CREATE INDEX bulk_items_claim_idx ON bulk_items (status, job_id, position);
-- A link belongs to at most one item.
CREATE UNIQUE INDEX bulk_items_link_key ON bulk_items (link_id);
