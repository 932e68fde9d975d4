//! Re-sealing every value sealed with the server's secret key, for `quiver admin
//! rotate-secret-key`. Each kind of sealed value is one entry in [`SEALED`]; a kind left
//! out would stop opening after a rotation, so every sealed column belongs here.

use super::{BeginWrite, Db, StoreResult, amazon_connections, mail_outbox, write_pool};
use crate::webhooks::signing;

/// One sealed column: `select` yields `(k1, k2, sealed)` for each stored value, `update`
/// stores the re-sealed value as `$3` for the row `(k1, k2)` = `($1, $2)`, and `aad`
/// gives the associated data the value was sealed with.
struct Sealed {
    select: &'static str,
    update: &'static str,
    aad: fn(&str, &str) -> Vec<u8>,
}

const SEALED: &[Sealed] = &[
    Sealed {
        select: "SELECT brand_id, region, refresh_token_sealed FROM amazon_connections \
                 ORDER BY brand_id, region",
        update: "UPDATE amazon_connections SET refresh_token_sealed = $3 \
                 WHERE brand_id = $1 AND region = $2",
        aad: amazon_connections::aad,
    },
    Sealed {
        select: "SELECT id, recipient, sealed FROM mail_outbox ORDER BY id",
        update: "UPDATE mail_outbox SET sealed = $3 WHERE id = $1 AND recipient = $2",
        aad: mail_outbox::aad,
    },
    Sealed {
        select: "SELECT id, account_id, secret_sealed FROM webhook_endpoints ORDER BY id",
        update: "UPDATE webhook_endpoints SET secret_sealed = $3 WHERE id = $1 AND account_id = $2",
        aad: webhook_aad,
    },
    Sealed {
        select: "SELECT id, account_id, previous_secret_sealed FROM webhook_endpoints \
                 WHERE previous_secret_sealed IS NOT NULL ORDER BY id",
        update: "UPDATE webhook_endpoints SET previous_secret_sealed = $3 \
                 WHERE id = $1 AND account_id = $2",
        aad: webhook_aad,
    },
];

fn webhook_aad(endpoint_id: &str, _account_id: &str) -> Vec<u8> {
    signing::aad(endpoint_id)
}

impl Db {
    /// Re-seals every stored secret (brands' Amazon tokens, queued account e-mails,
    /// webhook signing secrets, current and previous) with `reseal(aad, sealed)` in one
    /// transaction: all rows change or none does. `reseal` returning `None` (a value the
    /// old key cannot open) aborts it. Returns how many values were re-sealed, or `None`
    /// when aborted.
    pub async fn reseal_all(
        &self,
        reseal: impl Fn(&[u8], &str) -> Option<String>,
    ) -> StoreResult<Option<usize>> {
        let done = write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut n = 0;
            let mut aborted = false;
            'kinds: for kind in SEALED {
                let rows: Vec<(String, String, String)> =
                    sqlx::query_as(kind.select).fetch_all(&mut *tx).await?;
                for (k1, k2, sealed) in rows {
                    let Some(next) = reseal(&(kind.aad)(&k1, &k2), &sealed) else {
                        aborted = true;
                        break 'kinds;
                    };
                    sqlx::query(kind.update)
                        .bind(&k1)
                        .bind(&k2)
                        .bind(next)
                        .execute(&mut *tx)
                        .await?;
                    n += 1;
                }
            }
            if aborted {
                tx.rollback().await?;
                None
            } else {
                tx.commit().await?;
                Some(n)
            }
        });
        Ok(done)
    }
}
