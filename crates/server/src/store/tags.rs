//! Persisted Amazon tag templates: the tag cache's copy on disk.

use quiver_domain::Region;

use super::{Db, StoreResult, read_pool, write_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TagTemplateRow {
    #[sqlx(try_from = "String")]
    pub region: Region,
    pub profile_id: String,
    pub advertiser_id: String,
    pub publisher_id: String,
    pub template: String,
    pub fetched_at: i64,
}

impl Db {
    pub async fn save_tag_templates(&self, rows: &[TagTemplateRow]) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO tag_templates (region, profile_id, advertiser_id, publisher_id, template, fetched_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (region, profile_id, advertiser_id, publisher_id) DO UPDATE SET \
             template = excluded.template, fetched_at = excluded.fetched_at \
             WHERE tag_templates.fetched_at < excluded.fetched_at";
        write_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for r in rows {
                sqlx::query(SQL)
                    .bind(r.region.as_str()).bind(&r.profile_id).bind(&r.advertiser_id).bind(&r.publisher_id)
                    .bind(&r.template).bind(r.fetched_at)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn load_tag_templates(&self, newer_than: i64) -> StoreResult<Vec<TagTemplateRow>> {
        const SQL: &str = "SELECT region, profile_id, advertiser_id, publisher_id, template, fetched_at \
             FROM tag_templates WHERE fetched_at > $1";
        Ok(read_pool!(self, pool => sqlx::query_as(SQL).bind(newer_than).fetch_all(pool).await)?)
    }
}
