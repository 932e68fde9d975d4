-- Account e-mails (verification, password reset, invitations, notices) waiting to be sent
-- (issue #17). Written in the same transaction as the change that causes them where there
-- is one, so a crash or restart loses none; the `account_mail` job claims due rows with a
-- lease, so several processes on one database never send one mail twice at once. A sent
-- mail's row is deleted: its single-use link should not outlive the need for it.
-- Instants are milliseconds since the epoch.
CREATE TABLE mail_outbox (
    id                      TEXT PRIMARY KEY,
    -- The template (`verify`, `reset`, ...), for logs.
    kind                    TEXT NOT NULL,
    recipient               TEXT NOT NULL,
    -- Subject, text, HTML and link as JSON, sealed with the server secret key (AAD
    -- "account-mail:{id}:{recipient}"): the body carries single-use tokens.
    sealed                  TEXT NOT NULL,
    -- pending: waiting for its first or next attempt; failed: every attempt failed (or
    -- it could not be sent at all) and it is kept for the operator.
    status                  TEXT NOT NULL CHECK (status IN ('pending', 'failed')),
    attempts                INTEGER NOT NULL DEFAULT 0,
    -- When the next attempt is due; NULL once failed.
    next_attempt_at         BIGINT,
    last_error              TEXT,
    lease_owner             TEXT,
    -- A process sending it holds it until then; 0 when nobody does.
    lease_until             BIGINT NOT NULL DEFAULT 0,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at, created_at);
