//! Leases for background work shared by several processes (ingestion runs): a named row
//! claimed with a conditional UPDATE, so at most one holder has it at a time.

use super::{Db, StoreResult, write_pool};

impl Db {
    /// Claims (or renews, for the same holder) the lease `name` until `now + ttl_ms`.
    /// True when this holder has it. The conditional UPDATE is atomic on both engines, so
    /// of several processes racing for an expired lease exactly one wins.
    pub async fn claim_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        ttl_ms: i64,
    ) -> StoreResult<bool> {
        const SEED: &str = "INSERT INTO job_leases (name, holder, expires_at) VALUES ($1, '', 0) ON CONFLICT (name) DO NOTHING";
        const CLAIM: &str = "UPDATE job_leases SET holder = $2, expires_at = $3 WHERE name = $1 AND (expires_at < $4 OR holder = $2)";
        let n = write_pool!(self, pool => async {
            sqlx::query(SEED).bind(name).execute(pool).await?;
            sqlx::query(CLAIM).bind(name).bind(holder).bind(now + ttl_ms).bind(now)
                .execute(pool).await.map(|r| r.rows_affected())
        }.await)?;
        Ok(n == 1)
    }

    pub async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        const SQL: &str = "UPDATE job_leases SET expires_at = 0 WHERE name = $1 AND holder = $2";
        write_pool!(self, pool => sqlx::query(SQL).bind(name).bind(holder).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
