//! What ingestion writes: facts, the seller report's pre-aggregated rows and the
//! row-count rollups, kept consistent in one transaction per batch.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use quiver_domain::Marketplace;

use crate::store::emit::{Render, emit};
use crate::store::sql::{Arg, Sql};
use crate::store::{BeginWrite, Db, StoreResult, write_pool};
use crate::webhooks::events::EventType;

/// What one Amazon report row says about one fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactValues {
    /// From the PERFORMANCE report (per ad group): clicks and Brand Referral Bonus.
    Traffic { clicks: i64, brb: i64 },
    /// From the PRODUCTS report (per sold ASIN): the funnel, and the commission on sales.
    Funnel {
        dpv: i64,
        atc: i64,
        purchases: i64,
        units: i64,
        sales: i64,
        commission: i64,
    },
}

/// A fact's figures, in column order: clicks, dpv, atc, purchases, units, sales, brb,
/// commission.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Metrics([i64; 8]);

impl Metrics {
    fn minus(self, o: Self) -> Self {
        let mut r = self.0;
        for (a, b) in r.iter_mut().zip(o.0) {
            *a -= b;
        }
        Self(r)
    }

    fn plus(self, o: Self) -> Self {
        let mut r = self.0;
        for (a, b) in r.iter_mut().zip(o.0) {
            *a += b;
        }
        Self(r)
    }
}

impl FactValues {
    /// The row after this report's columns replace what it had.
    fn apply_to(self, old: Metrics) -> Metrics {
        let mut m = old.0;
        match self {
            Self::Traffic { clicks, brb } => {
                m[0] = clicks;
                m[6] = brb;
            }
            Self::Funnel {
                dpv,
                atc,
                purchases,
                units,
                sales,
                commission,
            } => {
                m[1] = dpv;
                m[2] = atc;
                m[3] = purchases;
                m[4] = units;
                m[5] = sales;
                m[7] = commission;
            }
        }
        Metrics(m)
    }
}

#[derive(Debug, Clone)]
pub struct FactWrite {
    pub account_id: String,
    pub day: i32,
    pub link_id: String,
    pub asin: String,
    pub marketplace: Marketplace,
    pub brand_id: String,
    pub seller_id: String,
    pub values: FactValues,
}

/// What a batch of writes did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOutcome {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// What a batch changed for one account (a publisher, or a brand's seller): the
/// `report.updated` event's subject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportChange {
    /// `YYYYMMDD`, ascending.
    pub days: Vec<i32>,
    /// The brands whose facts changed, ascending.
    pub brand_ids: Vec<String>,
}

/// Per account, what the written facts changed: each publisher's own facts, and each
/// seller's facts of its brands. Ordered by account so events are written in one order.
fn changes(written: &[(&FactWrite, Metrics)]) -> BTreeMap<String, ReportChange> {
    let mut sets: BTreeMap<&str, (BTreeSet<i32>, BTreeSet<&str>)> = BTreeMap::new();
    for (f, _) in written {
        for account in [f.account_id.as_str(), f.seller_id.as_str()] {
            let (days, brands) = sets.entry(account).or_default();
            days.insert(f.day);
            brands.insert(f.brand_id.as_str());
        }
    }
    sets.into_iter()
        .map(|(account, (days, brands))| {
            let change = ReportChange {
                days: days.into_iter().collect(),
                brand_ids: brands.into_iter().map(str::to_owned).collect(),
            };
            (account.to_owned(), change)
        })
        .collect()
}

/// A fact's key: account, day, link, ASIN.
type FactKey = (String, i32, String, String);
/// A seller row's key: seller, day, ASIN, marketplace, account.
type GroupKey = (String, i32, String, Marketplace, String);
type CurrentRow = (
    String,
    i32,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
);

/// Rows per multi-row statement: far below either engine's limit of bound parameters
/// (SQLite 32,766; PostgreSQL 65,535) at 16 values a row.
const CHUNK: usize = 500;

/// `WITH k(cols) AS (VALUES (...), ...) SELECT select FROM k CROSS JOIN table t WHERE ...`: one
/// statement reads the rows of many keys, each by an index seek (a row-value `IN` over
/// `VALUES` makes SQLite scan the table instead).
fn select_keys<const N: usize>(
    select: &str,
    table: &str,
    cols: [&str; N],
    keys: impl Iterator<Item = [Arg; N]>,
) -> Sql {
    let mut sql = Sql::new("WITH k(");
    sql.push(&cols.join(", ")).push(") AS (VALUES ");
    for (n, k) in keys.enumerate() {
        if n > 0 {
            sql.push(", ");
        }
        sql.push("(").list(k).push(")");
    }
    sql.push(") SELECT ")
        .push(select)
        .push(" FROM k JOIN ")
        .push(table)
        .push(" t ON ");
    for (n, c) in cols.iter().enumerate() {
        if n > 0 {
            sql.push(" AND ");
        }
        sql.push("t.").push(c).push(" = k.").push(c);
    }
    sql
}

/// A multi-row `INSERT INTO head VALUES (...), ... tail`.
fn multi_insert<const N: usize>(
    head: &str,
    rows: impl Iterator<Item = [Arg; N]>,
    tail: &str,
) -> Sql {
    let mut sql = Sql::new(head);
    sql.push(" VALUES ");
    for (n, r) in rows.enumerate() {
        if n > 0 {
            sql.push(", ");
        }
        sql.push("(").list(r).push(")");
    }
    sql.push(" ").push(tail);
    sql
}

fn fact_key(f: &FactWrite) -> FactKey {
    (
        f.account_id.clone(),
        f.day,
        f.link_id.clone(),
        f.asin.clone(),
    )
}

impl Db {
    /// Upserts a batch of facts in one transaction, and keeps the seller report's
    /// pre-aggregated rows and the row-count rollups exact by adding each fact's change.
    /// A row whose values are unchanged is not written; an all-zero row that does not
    /// exist yet is not created (a halo product nobody bought), but an existing row is
    /// always brought to the new values, zero included.
    ///
    /// The batch costs a handful of statements, not a few per fact: the stored rows are
    /// read with one multi-key SELECT per 500 facts, the facts are applied in memory in
    /// their order (a key twice in a batch sees its first write), and each table gets
    /// multi-row upserts of the final values.
    ///
    /// Every publisher and seller whose facts the batch changed gets `report.updated`
    /// (`data` from the `ReportChange`) in the same transaction; an unchanged batch tells
    /// no one.
    pub async fn apply_facts(
        &self,
        facts: &[FactWrite],
        now: i64,
        data: Render<'_, ReportChange>,
    ) -> StoreResult<ApplyOutcome> {
        const UPSERT_FACT: &str = "ON CONFLICT (account_id, day, link_id, asin) DO UPDATE SET \
             clicks = excluded.clicks, dpv = excluded.dpv, atc = excluded.atc, purchases = excluded.purchases, \
             units = excluded.units, sales = excluded.sales, brb = excluded.brb, commission = excluded.commission, \
             updated_at = excluded.updated_at";
        const ADD_GROUP: &str = "ON CONFLICT (seller_id, day, asin, marketplace, account_id) DO UPDATE SET \
             clicks = seller_report_facts.clicks + excluded.clicks, dpv = seller_report_facts.dpv + excluded.dpv, \
             atc = seller_report_facts.atc + excluded.atc, purchases = seller_report_facts.purchases + excluded.purchases, \
             units = seller_report_facts.units + excluded.units, sales = seller_report_facts.sales + excluded.sales, \
             brb = seller_report_facts.brb + excluded.brb, commission = seller_report_facts.commission + excluded.commission, \
             updated_at = excluded.updated_at";

        // The stored values of every key the batch touches.
        let mut keys: Vec<FactKey> = facts.iter().map(fact_key).collect();
        keys.sort();
        keys.dedup();
        let reads: Vec<Sql> = keys
            .chunks(CHUNK)
            .map(|chunk| {
                select_keys(
                    "t.account_id, t.day, t.link_id, t.asin, t.clicks, t.dpv, t.atc, t.purchases, t.units, t.sales, t.brb, t.commission",
                    "report_facts",
                    ["account_id", "day", "link_id", "asin"],
                    chunk.iter().map(|(a, d, l, s)| [a.into(), (*d).into(), l.into(), s.into()]),
                )
            })
            .collect();

        let result: Result<ApplyOutcome, sqlx::Error> = write_pool!(self, pool => async {
            let mut tx = pool.begin_write().await?;
            let mut state: HashMap<FactKey, Metrics> = HashMap::with_capacity(keys.len());
            for read in &reads {
                let rows: Vec<CurrentRow> = read.query_as().fetch_all(&mut *tx).await?;
                for r in rows {
                    let m = Metrics([r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11]);
                    state.insert((r.0, r.1, r.2, r.3), m);
                }
            }
            let plan = plan(facts, &mut state);

            // The final value of every fact written, once each.
            let written: Vec<(&FactWrite, Metrics)> = plan
                .written
                .iter()
                .map(|&i| (&facts[i], state[&fact_key(&facts[i])]))
                .collect();
            for chunk in written.chunks(CHUNK) {
                multi_insert(
                    "INSERT INTO report_facts (account_id, day, link_id, asin, marketplace, brand_id, seller_id, \
                     clicks, dpv, atc, purchases, units, sales, brb, commission, updated_at)",
                    chunk.iter().map(|(f, m)| {
                        let v = m.0;
                        let row: [Arg; 16] = [
                            (&f.account_id).into(), f.day.into(), (&f.link_id).into(), (&f.asin).into(),
                            f.marketplace.into(), (&f.brand_id).into(), (&f.seller_id).into(),
                            v[0].into(), v[1].into(), v[2].into(), v[3].into(), v[4].into(), v[5].into(),
                            v[6].into(), v[7].into(), now.into(),
                        ];
                        row
                    }),
                    UPSERT_FACT,
                )
                .query()
                .execute(&mut *tx)
                .await?;
            }

            // Seller rows: which exist already (a new one adds to the seller's day count).
            let mut existing: std::collections::HashSet<GroupKey> = std::collections::HashSet::new();
            for chunk in plan.deltas.chunks(CHUNK) {
                let sql = select_keys(
                    "t.seller_id, t.day, t.asin, t.marketplace, t.account_id",
                    "seller_report_facts",
                    ["seller_id", "day", "asin", "marketplace", "account_id"],
                    chunk.iter().map(|((s, d, a, m, acc), _, _)| [s.into(), (*d).into(), a.into(), (*m).into(), acc.into()]),
                );
                let rows: Vec<(String, i32, String, String, String)> = sql.query_as().fetch_all(&mut *tx).await?;
                for (s, d, a, m, acc) in rows {
                    if let Ok(m) = Marketplace::try_from(m) {
                        existing.insert((s, d, a, m, acc));
                    }
                }
            }
            let mut seller_bumps: HashMap<(String, i32, Marketplace), i64> = HashMap::new();
            for (key, _, _) in &plan.deltas {
                if !existing.contains(key) {
                    *seller_bumps.entry((key.0.clone(), key.1, key.3)).or_default() += 1;
                }
            }
            for chunk in plan.deltas.chunks(CHUNK) {
                multi_insert(
                    "INSERT INTO seller_report_facts (seller_id, day, asin, marketplace, account_id, brand_id, \
                     clicks, dpv, atc, purchases, units, sales, brb, commission, updated_at)",
                    chunk.iter().map(|((s, d, a, m, acc), brand, delta)| {
                        let v = delta.0;
                        let row: [Arg; 15] = [
                            s.into(), (*d).into(), a.into(), (*m).into(), acc.into(), brand.into(),
                            v[0].into(), v[1].into(), v[2].into(), v[3].into(), v[4].into(), v[5].into(),
                            v[6].into(), v[7].into(), now.into(),
                        ];
                        row
                    }),
                    ADD_GROUP,
                )
                .query()
                .execute(&mut *tx)
                .await?;
            }

            for (table, key_col, bumps) in [
                ("report_day_counts", "account_id", &plan.account_bumps),
                ("seller_day_counts", "seller_id", &seller_bumps),
            ] {
                let bumps: Vec<_> = bumps.iter().collect();
                for chunk in bumps.chunks(CHUNK) {
                    let mut head = Sql::new("INSERT INTO ");
                    head.push(table).push(" (").push(key_col).push(", day, marketplace, row_count)");
                    let mut tail = Sql::new("ON CONFLICT (");
                    tail.push(key_col).push(", day, marketplace) DO UPDATE SET row_count = ")
                        .push(table).push(".row_count + excluded.row_count");
                    multi_insert(
                        head.text(),
                        chunk.iter().map(|((k, d, m), n)| {
                            let row: [Arg; 4] = [k.into(), (*d).into(), (*m).into(), (**n).into()];
                            row
                        }),
                        tail.text(),
                    )
                    .query()
                    .execute(&mut *tx)
                    .await?;
                }
            }
            for (account, change) in changes(&written) {
                emit(&mut *tx, &account, EventType::ReportUpdated, data(&change)).await?;
            }
            tx.commit().await?;
            Ok(plan.out)
        }.await);
        Ok(result?)
    }
}

/// What a batch does, worked out in memory from the stored values in `state` (which it
/// brings to the batch's final values).
struct Plan {
    out: ApplyOutcome,
    /// Indices of the facts whose row is written, one per key (its last fact).
    written: Vec<usize>,
    /// Each seller row's change (and its brand), in first-seen order.
    deltas: Vec<(GroupKey, String, Metrics)>,
    account_bumps: HashMap<(String, i32, Marketplace), i64>,
}

fn plan(facts: &[FactWrite], state: &mut HashMap<FactKey, Metrics>) -> Plan {
    let mut out = ApplyOutcome::default();
    let mut account_bumps: HashMap<(String, i32, Marketplace), i64> = HashMap::new();
    let mut deltas: Vec<(GroupKey, String, Metrics)> = Vec::new();
    let mut delta_at: HashMap<GroupKey, usize> = HashMap::new();
    let mut written_at: HashMap<FactKey, usize> = HashMap::new();
    for (i, f) in facts.iter().enumerate() {
        let key = fact_key(f);
        let old = state.get(&key).copied();
        let new = f.values.apply_to(old.unwrap_or_default());
        let delta = match old {
            Some(old) if old == new => {
                out.unchanged += 1;
                continue;
            }
            Some(old) => {
                out.updated += 1;
                new.minus(old)
            }
            None if new == Metrics::default() => {
                out.unchanged += 1;
                continue;
            }
            None => {
                out.inserted += 1;
                *account_bumps
                    .entry((f.account_id.clone(), f.day, f.marketplace))
                    .or_default() += 1;
                new
            }
        };
        state.insert(key.clone(), new);
        written_at.insert(key, i);
        let group: GroupKey = (
            f.seller_id.clone(),
            f.day,
            f.asin.clone(),
            f.marketplace,
            f.account_id.clone(),
        );
        match delta_at.get(&group) {
            Some(&at) => deltas[at].2 = deltas[at].2.plus(delta),
            None => {
                delta_at.insert(group.clone(), deltas.len());
                deltas.push((group, f.brand_id.clone(), delta));
            }
        }
    }
    let mut written: Vec<usize> = written_at.into_values().collect();
    written.sort_unstable();
    Plan {
        out,
        written,
        deltas,
        account_bumps,
    }
}
