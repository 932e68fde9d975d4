//! Attribution links and the idempotency keys that guard their creation.

use quiver_domain::Marketplace;

use super::sql::{Arg, Sql};
use super::writer::{Job, OwnedKey};
use super::{
    BeginWrite, Db, StoreError, StoreResult, like_contains, read_pool, webhooks, write_pool,
};
use crate::webhooks::events::{EventType, NewEvent};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkRow {
    pub id: String,
    pub account_id: String,
    pub asin: String,
    #[sqlx(try_from = "String")]
    pub marketplace: Marketplace,
    pub brand_id: String,
    pub link_name: String,
    pub url: String,
    pub ad_group_id: String,
    pub campaign_id: String,
    pub product_name: String,
    pub active: bool,
    pub paused_at: Option<i64>,
    pub created_at: i64,
    /// When the creator archived the link; `None` for a link in use.
    pub archived_at: Option<i64>,
    /// The code of the link's short URL, `/r/{code}` (migration 0018). `None` only for a
    /// link made before that migration, until `quiver serve` gives it one at start.
    pub short_code: Option<String>,
    /// The creator's label for where the link is posted (`youtube`, `instagram`, ...).
    pub source: Option<String>,
    /// The creator's own sub-identifier (a video, a post).
    pub sub_id: Option<String>,
}

pub(crate) const COLUMNS: &str = "id, account_id, asin, marketplace, brand_id, link_name, url, ad_group_id, campaign_id, \
     product_name, active, paused_at, created_at, archived_at, short_code, source, sub_id";

impl LinkRow {
    /// The INSERT of this link: single creation's and the bulk worker's.
    pub(crate) fn insert(&self) -> Sql {
        let mut sql = Sql::new("INSERT INTO links (");
        sql.push(COLUMNS)
            .push(") VALUES (")
            .list(self.values())
            .push(")");
        sql
    }

    /// The values of `COLUMNS`, in order.
    pub(crate) fn values(&self) -> [Arg; 17] {
        [
            self.id.as_str().into(),
            self.account_id.as_str().into(),
            self.asin.as_str().into(),
            self.marketplace.into(),
            self.brand_id.as_str().into(),
            self.link_name.as_str().into(),
            self.url.as_str().into(),
            self.ad_group_id.as_str().into(),
            self.campaign_id.as_str().into(),
            self.product_name.as_str().into(),
            self.active.into(),
            self.paused_at.into(),
            self.created_at.into(),
            self.archived_at.into(),
            self.short_code.clone().into(),
            self.source.clone().into(),
            self.sub_id.clone().into(),
        ]
    }

    /// The link `id`, only if it belongs to `account_id`.
    fn select(account_id: &str, id: &str) -> Sql {
        let mut sql = Sql::new("SELECT ");
        sql.push(COLUMNS)
            .push(" FROM links WHERE id = ")
            .arg(id)
            .and_eq("account_id", account_id);
        sql
    }
}

/// Filters of `GET /get_all_links`.
#[derive(Debug, Default)]
pub struct LinkFilter<'a> {
    pub marketplace: Option<Marketplace>,
    pub asin: Option<&'a str>,
    pub active: Option<bool>,
    /// Case-insensitive substring of the link name.
    pub name_contains: Option<&'a str>,
    /// `Some(false)`: links in use only; `Some(true)`: archived ones only; `None`: both.
    pub archived: Option<bool>,
    /// Links with exactly this source.
    pub source: Option<&'a str>,
}

/// What `PATCH /links/{id}` changes; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct LinkChange<'a> {
    pub active: Option<bool>,
    pub link_name: Option<&'a str>,
    pub archived: Option<bool>,
    /// `Some(None)` clears the source, `Some(Some(s))` sets it.
    pub source: Option<Option<&'a str>>,
    pub sub_id: Option<Option<&'a str>>,
}

/// A remembered successful creation: the key's request hash and the link it made.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IdempotencyRow {
    pub request_hash: String,
    pub link_id: String,
    pub response_body: String,
    pub created_at: i64,
}

/// The key, what it was used for, and the response to replay.
pub struct IdempotencyRecord<'a> {
    pub key: &'a str,
    pub request_hash: &'a str,
    pub response_body: &'a str,
}

/// Stores an idempotency key unless a live one (younger than 24 h) holds it: binds
/// account, key, request hash, link id, now, now − TTL, response body.
pub(crate) const KEY_SQL: &str = "INSERT INTO idempotency_keys (account_id, idem_key, request_hash, link_id, response_body, created_at) \
     VALUES ($1, $2, $3, $4, $7, $5) \
     ON CONFLICT (account_id, idem_key) DO UPDATE SET request_hash = excluded.request_hash, \
     link_id = excluded.link_id, response_body = excluded.response_body, created_at = excluded.created_at \
     WHERE idempotency_keys.created_at < $6";

#[derive(Debug)]
pub enum InsertOutcome {
    Created,
    /// Another request with the same idempotency key committed first.
    KeyTaken,
}

impl Db {
    /// Inserts a link and, when given, the idempotency key that produced it, in one
    /// transaction: either both exist afterwards or neither does. Answers once they are
    /// committed. The transaction is shared with the creations queued at the same time
    /// (group commit, `store::writer`); a keyed one runs in its own savepoint.
    ///
    /// `event` is the link object (JSON) for a `link.created` webhook, enqueued in the same
    /// transaction when the account has an endpoint subscribed to it.
    pub async fn insert_link(
        &self,
        link: &LinkRow,
        idempotency: Option<IdempotencyRecord<'_>>,
        now: i64,
        event: Option<String>,
    ) -> StoreResult<InsertOutcome> {
        let writer = match self {
            Db::Sqlite { writer, .. } | Db::Postgres(_, writer) => writer,
        };
        writer
            .submit(|reply| Job {
                link: link.clone(),
                key: idempotency.map(|r| OwnedKey {
                    key: r.key.to_owned(),
                    request_hash: r.request_hash.to_owned(),
                    response_body: r.response_body.to_owned(),
                }),
                now,
                event,
                reply,
            })
            .await
    }

    /// A live (younger than 24 h) idempotency key of this account.
    pub async fn idempotency_key(
        &self,
        account_id: &str,
        key: &str,
        now: i64,
    ) -> StoreResult<Option<IdempotencyRow>> {
        const SQL: &str = "SELECT request_hash, link_id, response_body, created_at FROM idempotency_keys \
             WHERE account_id = $1 AND idem_key = $2 AND created_at >= $3";
        Ok(read_pool!(self, pool => sqlx::query_as(SQL)
            .bind(account_id).bind(key).bind(now - IDEMPOTENCY_TTL_MS)
            .fetch_optional(pool).await)?)
    }

    /// The link, only if it belongs to `account_id`.
    pub async fn link_of(&self, account_id: &str, id: &str) -> StoreResult<Option<LinkRow>> {
        let sql = LinkRow::select(account_id, id);
        Ok(read_pool!(self, pool => sql.query_as().fetch_optional(pool).await)?)
    }

    /// Newest first. `after` is the id of the last link of the previous page (keyset), or
    /// `offset` skips rows (page numbers). Only the filters in use reach the SQL, so the
    /// planner walks `links_account_idx` from the cursor instead of testing every row.
    pub async fn list_links(
        &self,
        account_id: &str,
        filter: &LinkFilter<'_>,
        after: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(i64, Vec<LinkRow>)> {
        let push_where = |sql: &mut Sql| {
            sql.push(" WHERE account_id = ")
                .arg(account_id)
                .and_eq_opt("marketplace", filter.marketplace)
                .and_eq_opt("asin", filter.asin)
                .and_eq_opt("active", filter.active)
                .and_eq_opt("source", filter.source);
            if let Some(name) = filter.name_contains {
                sql.push(" AND LOWER(link_name) LIKE ")
                    .arg(like_contains(name))
                    .push(" ESCAPE '\\'");
            }
            match filter.archived {
                Some(true) => {
                    sql.push(" AND archived_at IS NOT NULL");
                }
                Some(false) => {
                    sql.push(" AND archived_at IS NULL");
                }
                None => {}
            }
        };
        let unfiltered = filter.marketplace.is_none()
            && filter.asin.is_none()
            && filter.active.is_none()
            && filter.name_contains.is_none()
            && filter.source.is_none();
        let count = if unfiltered {
            // Kept exact by triggers (migration 0015): no count of the account's links.
            let counted = match filter.archived {
                None => "links",
                Some(false) => "links - archived",
                Some(true) => "archived",
            };
            let mut count = Sql::new("SELECT CAST(COALESCE(SUM(");
            count
                .push(counted)
                .push("), 0) AS BIGINT) FROM link_counts WHERE account_id = ")
                .arg(account_id);
            count
        } else {
            let mut count = Sql::new("SELECT COUNT(*) FROM links");
            push_where(&mut count);
            count
        };
        // The page's ids come from the index alone (it covers them), skipped rows
        // included; only the rows shown are read from the table. `from_end`: the ids are
        // walked oldest first, skipping `skip` rows, for the same rows in the same order.
        let page = |skip: i64, take: i64, from_end: bool| {
            let mut page = Sql::new("SELECT ");
            page.push(COLUMNS)
                .push(" FROM links WHERE id IN (SELECT id FROM links");
            push_where(&mut page);
            if let Some(after) = after {
                page.push(" AND id < ").arg(after);
            }
            page.push(if from_end {
                " ORDER BY id ASC LIMIT "
            } else {
                " ORDER BY id DESC LIMIT "
            })
            .arg(take)
            .push(" OFFSET ")
            .arg(skip)
            .push(") ORDER BY id DESC");
            page
        };
        if after.is_some() || offset == 0 {
            return self
                .count_and_rows(&count, &page(offset, limit, false))
                .await;
        }
        // A page number in the older half of the list is counted from its far end, so
        // the index walk is at most half the list (the last page reads only its rows).
        // The total and the page come from one snapshot, so the total places the page
        // exactly.
        self.count_then_rows(&count, |total| {
            let remaining = total - offset;
            if offset > remaining && remaining > 0 {
                let take = limit.min(remaining);
                page(remaining - take, take, true)
            } else {
                page(offset, limit, false)
            }
        })
        .await
    }

    /// Applies a pause/resume, rename and/or archive; returns the updated link. A
    /// `link.updated` webhook event with `render(link)` as its data is enqueued in the
    /// same transaction.
    pub async fn update_link(
        &self,
        account_id: &str,
        id: &str,
        change: &LinkChange<'_>,
        now: i64,
        render: impl Fn(&LinkRow) -> serde_json::Value,
    ) -> StoreResult<Option<LinkRow>> {
        // paused_at records the first pause; resuming clears it. archived_at likewise keeps
        // the first archiving, so archiving twice is a no-op.
        const SQL: &str = "UPDATE links SET \
             link_name = COALESCE($3, link_name), \
             paused_at = CASE WHEN $4 IS NULL THEN paused_at WHEN $4 THEN NULL ELSE COALESCE(paused_at, $5) END, \
             active = COALESCE($4, active), \
             archived_at = CASE WHEN $6 IS NULL THEN archived_at WHEN $6 THEN COALESCE(archived_at, $5) ELSE NULL END, \
             source = CASE WHEN $7 THEN $8 ELSE source END, \
             sub_id = CASE WHEN $9 THEN $10 ELSE sub_id END \
             WHERE id = $1 AND account_id = $2";
        let select = LinkRow::select(account_id, id);
        let row: Result<Option<LinkRow>, StoreError> = write_pool!(self, pool => async {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(SQL)
                .bind(id).bind(account_id).bind(change.link_name).bind(change.active).bind(now).bind(change.archived)
                .bind(change.source.is_some()).bind(change.source.flatten())
                .bind(change.sub_id.is_some()).bind(change.sub_id.flatten())
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Ok(None);
            }
            let row: Option<LinkRow> = select.query_as().fetch_optional(&mut *tx).await?;
            if let Some(row) = &row {
                let ev = NewEvent {
                    account_id,
                    event_type: EventType::LinkUpdated,
                    data: render(row),
                };
                webhooks::enqueue(&mut *tx, &ev).await?;
            }
            tx.commit().await?;
            Ok(row)
        }.await);
        row
    }

    pub async fn count_links(&self, account_id: &str) -> StoreResult<i64> {
        const SQL: &str =
            "SELECT CAST(COALESCE(SUM(links), 0) AS BIGINT) FROM link_counts WHERE account_id = $1";
        Ok(read_pool!(self, pool => sqlx::query_scalar(SQL)
            .bind(account_id).fetch_one(pool).await)?)
    }

    pub async fn prune_idempotency_keys(&self, now: i64) -> StoreResult<u64> {
        const SQL: &str = "DELETE FROM idempotency_keys WHERE created_at < $1";
        Ok(
            write_pool!(self, pool => sqlx::query(SQL).bind(now - IDEMPOTENCY_TTL_MS).execute(pool).await.map(|r| r.rows_affected()))?,
        )
    }
}

pub const IDEMPOTENCY_TTL_MS: i64 = 24 * 60 * 60 * 1000;
