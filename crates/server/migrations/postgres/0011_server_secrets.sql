-- Secrets every server on this database shares, such as the key page cursors are signed
-- with, so that a cursor one server gave out is accepted by the others. Each is created at
-- random by the first server that needs it (`Db::shared_secret`), never by a migration, so
-- no two deployments share one.
CREATE TABLE server_secrets (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
