-- Changes made with `quiver admin` are audited too, under the actor 'admin-cli', which is
-- no account: actor_account_id becomes nullable.
ALTER TABLE seller_audit ALTER COLUMN actor_account_id DROP NOT NULL;
