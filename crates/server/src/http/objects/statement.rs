//! The statement CSV both sides download, and the statement lists' query parameters.

use crate::error::ApiError;
use crate::http::params::list;
use crate::jobs::csv::neutralise;
use crate::objects::format::iso_day;
use crate::objects::format::month_label;
use crate::objects::statement::decimal;
use crate::statements::schedule::parse_month;
use crate::store::statements::{AdjustmentRow, LineRow, StatementRow, StatementState};

/// The statement as CSV: one line per report row, then adjustments, then the total.
pub fn statement_csv(
    s: &StatementRow,
    lines: &[LineRow],
    adjustments: &[AdjustmentRow],
) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "statement_id",
        "month",
        "brand_id",
        "creator",
        "currency",
        "kind",
        "date",
        "link_id",
        "link_name",
        "asin",
        "halo",
        "marketplace",
        "units",
        "sales",
        "amount",
        "note",
    ])?;
    let head = |kind: &str| {
        vec![
            s.id.clone(),
            month_label(s.month),
            neutralise(s.brand_id.clone()),
            neutralise(s.creator.clone()),
            s.currency.clone(),
            kind.to_owned(),
        ]
    };
    for l in lines {
        let mut r = head("line");
        r.extend([
            iso_day(l.day),
            l.link_id.clone(),
            neutralise(l.link_name.clone()),
            l.asin.clone(),
            (l.asin != l.link_asin).to_string(),
            l.marketplace.clone(),
            l.units.to_string(),
            decimal(l.sales),
            decimal(l.commission),
            String::new(),
        ]);
        w.write_record(&r)?;
    }
    for a in adjustments {
        let mut r = head("adjustment");
        r.extend(vec![String::new(); 8]);
        r.extend([decimal(a.amount), neutralise(a.reason.clone())]);
        w.write_record(&r)?;
    }
    let mut r = head("total");
    r.extend(vec![String::new(); 8]);
    r.extend([decimal(s.total()), s.state.as_str().to_owned()]);
    w.write_record(&r)?;
    w.into_inner().map_err(|e| e.into_error().into())
}

/// The most statements a listing returns.
pub const MAX_STATEMENTS: i64 = 500;

/// A `YYYY-MM` query parameter, or a 422 naming it.
pub fn month_param(field: &str, value: Option<&str>) -> Result<Option<i32>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse_month(v).map(Some).ok_or_else(|| {
            ApiError::validation(
                "query",
                field,
                "Input should be a month as YYYY-MM",
                "month_parsing",
            )
        }),
    }
}

/// `state=` as stored names, or a 422.
pub fn states_param(value: Option<&str>) -> Result<Option<Vec<String>>, ApiError> {
    let items = list("state", value, StatementState::ALL.len())?;
    if items.is_empty() {
        return Ok(None);
    }
    for s in &items {
        if StatementState::parse(s).is_none() {
            return Err(ApiError::validation(
                "query",
                "state",
                "Input should be one of open, final, approved, paid, void",
                "enum",
            ));
        }
    }
    Ok(Some(items))
}
