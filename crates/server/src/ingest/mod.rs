//! Report ingestion (spec §5): pulls Amazon Attribution's PERFORMANCE report (per ad
//! group: clicks and Brand Referral Bonus) and PRODUCTS report (per sold ASIN, promoted
//! and brand halo) for every brand's advertiser, maps ad groups back to links, and
//! upserts daily facts.
//!
//! Every run re-reads the last 28 days (Amazon restates them); an advertiser's first run
//! backfills 90 days (the PRODUCTS report's reach). Progress is checkpointed per page, so
//! a run that fails part-way resumes at the next page on the following run. A lease row
//! keeps several processes sharing a database from running at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use quiver_amazon::wire::{self, GroupBy, ReportEntry, ReportRequestBody, ReportType, metric};
use quiver_amazon::{AmazonClient, AmazonError, Region};
use quiver_domain::{Marketplace, RateHistory, format_compact};
use time::Date;
use tokio_util::sync::CancellationToken;

use crate::brand_amazon;
use crate::clock::{day_number, day_of_number, instant};
use crate::objects::report_update;
use crate::store::amazon_connections::ConnectionRow;
use crate::store::reports::{AdvertiserRow, FactValues, FactWrite, IngestLink, Pull};
use crate::store::{Db, now_ms};

/// Days Amazon may still restate, re-read on every run.
pub const RESTATEMENT_DAYS: i64 = 28;
/// How far the first run for an advertiser reaches back (PRODUCTS report limit).
pub const BACKFILL_DAYS: i64 = 90;
/// The lease every ingestion run holds.
pub const LEASE: &str = "ingest";
const LEASE_TTL_MS: i64 = 10 * 60 * 1000;

const PERFORMANCE: &str = "PERFORMANCE";
const PRODUCTS: &str = "PRODUCTS";

/// One page stored: what `quiver ingest` prints and tests observe.
#[derive(Debug, Clone)]
pub struct Progress {
    pub region: Region,
    pub advertiser_id: String,
    pub report: &'static str,
    /// Pages stored so far in this run, all advertisers together.
    pub pages: u64,
    /// Report rows read so far in this run.
    pub entries: u64,
}

pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

#[derive(Clone)]
pub struct Options {
    /// The day runs are relative to; default the current UTC date.
    pub today: Option<Date>,
    /// Rows per report page (Amazon allows 1–5000).
    pub page_size: i64,
    /// Time each page may take, retries included.
    pub page_budget: Duration,
    /// Called after each page is stored.
    pub progress: Option<ProgressFn>,
    /// Read the whole 90-day backfill window even for advertisers read before.
    pub full_backfill: bool,
    /// Ends the run early, between pages (each stored page is checkpointed, so the next
    /// run resumes where this one stopped).
    pub stop: CancellationToken,
    /// Opens brands' own authorisations (#18); without it their advertisers are skipped.
    pub secret_key: Option<crate::secret_key::SecretKey>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            today: None,
            page_size: 1000,
            page_budget: Duration::from_secs(30),
            progress: None,
            full_backfill: false,
            stop: CancellationToken::new(),
            secret_key: None,
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub advertisers: usize,
    pub pages: u64,
    pub entries: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Rows for ad groups that are not Quiver links.
    pub unmatched: u64,
    /// Rows dated after their link was paused.
    pub paused: u64,
    /// Pulls that continued from a checkpoint left by a failed run.
    pub resumed: u64,
    /// One line per pull that failed (it resumes next run).
    pub failures: Vec<String>,
    /// Brands (`brand region`) skipped because their own Amazon connection needs
    /// reconnecting; their reports are back-filled after they reconnect.
    pub skipped: Vec<String>,
    /// Brand connections this run found broken (now `reconnect_needed`).
    pub broken: Vec<String>,
}

#[derive(Debug)]
pub enum Outcome {
    Ran(Summary),
    /// Another process holds the ingestion lease.
    Busy,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

fn utc_day_of_ms(ms: i64) -> Option<Date> {
    instant(ms).map(|t| t.date())
}

/// The links and rates of the brands reporting through one advertiser.
struct AdvertiserContext {
    links: HashMap<String, (IngestLink, String)>,
    rates: HashMap<String, RateHistory>,
}

struct Mapper<'a> {
    ctx: &'a AdvertiserContext,
}

enum Mapped {
    Fact(Box<FactWrite>),
    Unmatched,
    Paused,
    Skip,
}

impl Mapper<'_> {
    fn map(&self, report: &str, e: &ReportEntry) -> Mapped {
        let Some((link, seller)) = e.ad_group_id.as_ref().and_then(|g| self.ctx.links.get(g))
        else {
            return Mapped::Unmatched;
        };
        let Some(date) = e
            .date
            .as_deref()
            .and_then(|d| quiver_domain::parse_report_date(d).ok())
        else {
            return Mapped::Skip;
        };
        // Activity dated after the (UTC) day of a pause is not credited to the link.
        if let Some(paused) = link.paused_at.and_then(utc_day_of_ms)
            && date > paused
        {
            return Mapped::Paused;
        }
        let base = |asin: String, marketplace: Marketplace, values| {
            Mapped::Fact(Box::new(FactWrite {
                account_id: link.account_id.clone(),
                day: day_number(date),
                link_id: link.id.clone(),
                asin,
                marketplace,
                brand_id: link.brand_id.clone(),
                seller_id: seller.clone(),
                values,
            }))
        };
        if report == PERFORMANCE {
            return base(
                link.asin.clone(),
                link.marketplace,
                FactValues::Traffic {
                    clicks: e.count(metric::CLICK_THROUGHS),
                    brb: e.minor_units(metric::BRB_BONUS_AMOUNT),
                },
            );
        }
        let Some(asin) = e
            .product_asin
            .as_deref()
            .map(|a| a.trim().to_ascii_uppercase())
        else {
            return Mapped::Skip;
        };
        let marketplace = e
            .marketplace
            .as_deref()
            .and_then(|m| Marketplace::parse(m).ok())
            .unwrap_or(link.marketplace);
        let halo = e.product_conversion_type.as_deref() == Some(wire::conversion_type::BRAND_HALO);
        let names: [&str; 5] = if halo {
            [
                metric::HALO_DETAIL_PAGE_VIEWS,
                metric::HALO_ADD_TO_CARTS,
                metric::HALO_PURCHASES,
                metric::HALO_UNITS_SOLD,
                metric::HALO_SALES,
            ]
        } else {
            [
                metric::DETAIL_PAGE_VIEWS,
                metric::ADD_TO_CARTS,
                metric::PURCHASES,
                metric::UNITS_SOLD,
                metric::SALES,
            ]
        };
        let sales = e.minor_units(names[4]);
        // The creator's rate on that day: their own terms with the brand if in force, else
        // the sold product's rate (a halo row earns the halo product's rate).
        let rate = self
            .ctx
            .rates
            .get(&link.brand_id)
            .map(|h| h.rate_for(&link.account_id, &asin, marketplace, date))
            .unwrap_or(quiver_domain::Bps(0));
        base(
            asin,
            marketplace,
            FactValues::Funnel {
                dpv: e.count(names[0]),
                atc: e.count(names[1]),
                purchases: e.count(names[2]),
                units: e.count(names[3]),
                sales,
                commission: rate.commission_on(sales),
            },
        )
    }
}

/// The brand's own connection behind an advertiser row, if it is read with one.
fn own_connection(r: &AdvertiserRow) -> Option<ConnectionRow> {
    Some(ConnectionRow {
        brand_id: r.brand_id.clone(),
        region: r.region,
        status: r.own_status.clone()?,
        refresh_token_sealed: r.own_sealed.clone()?,
        profile_id: Some(r.profile_id.clone()),
        advertiser_id: Some(r.advertiser_id.clone()),
        connected_at: r.own_connected_at.unwrap_or(0),
        last_ok_at: None,
        last_error: None,
    })
}

fn request_body(
    report: &str,
    advertiser_id: &str,
    window: (Date, Date),
    cursor: Option<String>,
    page_size: i64,
) -> ReportRequestBody {
    let (report_type, group_by, metrics) = if report == PERFORMANCE {
        (
            ReportType::Performance,
            Some(GroupBy::Adgroup),
            [metric::CLICK_THROUGHS, metric::BRB_BONUS_AMOUNT].join(","),
        )
    } else {
        (
            ReportType::Products,
            None,
            [
                metric::DETAIL_PAGE_VIEWS,
                metric::ADD_TO_CARTS,
                metric::PURCHASES,
                metric::UNITS_SOLD,
                metric::SALES,
                metric::HALO_DETAIL_PAGE_VIEWS,
                metric::HALO_ADD_TO_CARTS,
                metric::HALO_PURCHASES,
                metric::HALO_UNITS_SOLD,
                metric::HALO_SALES,
            ]
            .join(","),
        )
    };
    ReportRequestBody {
        advertiser_ids: Some(advertiser_id.to_owned()),
        count: Some(page_size),
        cursor_id: cursor,
        start_date: format_compact(window.0),
        end_date: format_compact(window.1),
        group_by,
        metrics: Some(metrics),
        report_type: Some(report_type),
    }
}

struct Run<'a> {
    db: &'a Db,
    client: &'a AmazonClient,
    opts: &'a Options,
    today: Date,
    holder: String,
    summary: Summary,
}

impl Run<'_> {
    async fn advertiser(&mut self, rows: &[AdvertiserRow]) -> Result<(), IngestError> {
        let Some(first) = rows.first() else {
            return Ok(());
        };
        let region = first.region;
        let own = own_connection(first);
        let brand_client;
        let client = match &own {
            None => self.client,
            Some(c) if !c.is_connected() => {
                tracing::info!(brand = %c.brand_id, %region, "skipping the reports of a brand whose Amazon connection needs reconnecting");
                self.summary
                    .skipped
                    .push(format!("{} {region}", c.brand_id));
                return Ok(());
            }
            Some(c) => {
                let opened = self
                    .opts
                    .secret_key
                    .as_ref()
                    .and_then(|k| brand_amazon::client_with(self.client, k, c));
                let Some(opened) = opened else {
                    self.summary.failures.push(format!(
                        "{region} {}: the brand's authorisation cannot be opened (secret key)",
                        first.advertiser_id
                    ));
                    return Ok(());
                };
                brand_client = opened;
                &brand_client
            }
        };
        let mut ctx = AdvertiserContext {
            links: HashMap::new(),
            rates: HashMap::new(),
        };
        for r in rows {
            for l in self.db.ingest_links(&r.brand_id).await? {
                ctx.links
                    .insert(l.ad_group_id.clone(), (l, r.seller_id.clone()));
            }
            ctx.rates.insert(
                r.brand_id.clone(),
                self.db.commission_history(&r.brand_id).await?,
            );
        }
        self.summary.advertisers += 1;
        let mut all_ok = true;
        for report in [PERFORMANCE, PRODUCTS] {
            if self.opts.stop.is_cancelled() {
                break;
            }
            let Err(e) = self.pull(client, region, first, report, &ctx).await else {
                continue;
            };
            all_ok = false;
            if let (Some(c), Some(amazon)) = (&own, e.downcast_ref::<AmazonError>())
                && brand_amazon::breaks_connection(amazon)
            {
                if brand_amazon::record_failure(self.db, c, amazon).await? {
                    self.summary.broken.push(format!("{} {region}", c.brand_id));
                }
                self.summary
                    .skipped
                    .push(format!("{} {region}", c.brand_id));
                // The other report would fail the same way.
                break;
            }
            tracing::warn!(advertiser = %first.advertiser_id, %region, report, error = %e, "report pull failed; it resumes next run");
            self.summary
                .failures
                .push(format!("{region} {} {report}: {e}", first.advertiser_id));
        }
        if let (Some(c), true) = (&own, all_ok) {
            brand_amazon::succeeded(self.db, c).await;
        }
        Ok(())
    }

    /// One report for one advertiser, page by page from the checkpoint.
    async fn pull(
        &mut self,
        client: &AmazonClient,
        region: Region,
        adv: &AdvertiserRow,
        report: &'static str,
        ctx: &AdvertiserContext,
    ) -> anyhow::Result<()> {
        let key = Pull {
            region,
            advertiser_id: &adv.advertiser_id,
            report,
        };
        let state = self.db.ingest_state(&key).await?;
        let last_success = state.as_ref().and_then(|s| s.last_success_at);
        // A brand that (re)connected since the last success may have been skipped for a
        // while: the whole window is read again to fill what it missed (#18).
        let reconnected = adv
            .own_connected_at
            .is_some_and(|at| last_success.is_none_or(|ok| at > ok));
        let full_start = self.today - time::Duration::days(BACKFILL_DAYS - 1);
        let pending = state
            .as_ref()
            .and_then(|s| {
                Some((
                    day_of_number(s.pending_start?)?,
                    day_of_number(s.pending_end?)?,
                    s.pending_cursor.clone(),
                ))
            })
            // The checkpoint of a pull that failed while the brand was broken covers less
            // than the back-fill needs.
            .filter(|(start, ..)| !reconnected || *start <= full_start);
        let (start, end, cursor) = match pending {
            Some(p) => {
                self.summary.resumed += 1;
                p
            }
            None => {
                let read_before = last_success.is_some() && !reconnected;
                let back = if read_before && !self.opts.full_backfill {
                    RESTATEMENT_DAYS - 1
                } else {
                    BACKFILL_DAYS - 1
                };
                (self.today - time::Duration::days(back), self.today, None)
            }
        };
        // A checkpoint may predate the PRODUCTS report's reach; the cursor stays valid.
        let oldest = self.today - time::Duration::days(BACKFILL_DAYS);
        let start = if report == PRODUCTS {
            start.max(oldest)
        } else {
            start
        };
        let window = (day_number(start), day_number(end));
        self.db
            .set_ingest_pending(&key, window, cursor.as_deref(), now_ms())
            .await?;
        let body = request_body(
            report,
            &adv.advertiser_id,
            (start, end),
            cursor,
            self.opts.page_size,
        );
        let mapper = Mapper { ctx };
        let mut pages = std::pin::pin!(client.report_pages(
            region,
            &adv.profile_id,
            &body,
            self.opts.page_budget
        ));
        loop {
            let page = tokio::select! {
                page = pages.next() => page,
                () = self.opts.stop.cancelled() => None,
            };
            let Some(page) = page else { break };
            let page = page?;
            let mut facts = Vec::with_capacity(page.entries.len());
            for e in &page.entries {
                match mapper.map(report, e) {
                    Mapped::Fact(f) => facts.push(*f),
                    Mapped::Unmatched => self.summary.unmatched += 1,
                    Mapped::Paused => self.summary.paused += 1,
                    Mapped::Skip => {}
                }
            }
            let now = now_ms();
            let out = self
                .db
                .apply_facts(&facts, now, &report_update::data)
                .await?;
            self.summary.inserted += out.inserted;
            self.summary.updated += out.updated;
            self.summary.unchanged += out.unchanged;
            self.summary.pages += 1;
            self.summary.entries += page.entries.len() as u64;
            match &page.next_cursor {
                Some(next) => {
                    self.db
                        .set_ingest_pending(&key, window, Some(next), now)
                        .await?
                }
                None => self.db.set_ingest_done(&key, now).await?,
            }
            if !self
                .db
                .claim_lease(LEASE, &self.holder, now, LEASE_TTL_MS)
                .await?
            {
                anyhow::bail!("lost the ingestion lease");
            }
            if let Some(progress) = &self.opts.progress {
                progress(&Progress {
                    region,
                    advertiser_id: adv.advertiser_id.clone(),
                    report,
                    pages: self.summary.pages,
                    entries: self.summary.entries,
                });
            }
        }
        Ok(())
    }
}

/// One ingestion run over every advertiser, unless another process is running one.
pub async fn run_once(
    db: &Db,
    client: &AmazonClient,
    opts: &Options,
) -> Result<Outcome, IngestError> {
    let holder = uuid::Uuid::now_v7().to_string();
    if !db
        .claim_lease(LEASE, &holder, now_ms(), LEASE_TTL_MS)
        .await?
    {
        return Ok(Outcome::Busy);
    }
    let today = opts
        .today
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
    let mut run = Run {
        db,
        client,
        opts,
        today,
        holder: holder.clone(),
        summary: Summary::default(),
    };
    let result = async {
        let rows = db.ingest_advertisers().await?;
        let mut groups: Vec<Vec<AdvertiserRow>> = Vec::new();
        for r in rows {
            // Rows of one advertiser read with one authorisation form a group.
            match groups.last_mut() {
                Some(g)
                    if g[0].region == r.region
                        && g[0].advertiser_id == r.advertiser_id
                        && g[0].own_sealed == r.own_sealed =>
                {
                    g.push(r)
                }
                _ => groups.push(vec![r]),
            }
        }
        for g in &groups {
            if opts.stop.is_cancelled() {
                break;
            }
            run.advertiser(g).await?;
        }
        Ok::<(), IngestError>(())
    }
    .await;
    if let Err(e) = db.release_lease(LEASE, &holder).await {
        tracing::warn!(error = %e, "could not release the ingestion lease; it expires by itself");
    }
    result?;
    Ok(Outcome::Ran(run.summary))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_timestamp_falls_on_its_utc_day() {
        assert_eq!(utc_day_of_ms(0), Some(date!(1970 - 01 - 01)));
    }
}
