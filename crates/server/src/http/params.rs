//! Request values every resource reads the same way: optional text, booleans, comma
//! lists, ASINs, report dates, marketplaces and percentages. Each parser has one
//! behaviour, and its failures are 422 bodies naming the field (or the domain's own error,
//! such as `invalid_asin` or `unsupported_marketplace`).
//!
//! Every list and every free text a client sends has a limit, set here (and listed in the
//! README): unbounded lists overflow SQLite's bind variables and long texts its LIKE
//! patterns, both of which would otherwise be 500s, and both cost time on either engine.

use quiver_domain::{
    Asin, Bps, Geo, LinkName, Marketplace, MarketplaceSelector, Region, parse_report_date,
};
use serde_json::{Map, Value};
use time::Date;

use crate::clock::day_number;
use crate::error::{ApiError, FieldError};

/// An Amazon region (`NA`, `EU`, `FE`, any case) in `source`; a 422 item naming `region`.
pub fn region(source: &str, value: Option<&str>) -> Result<Region, FieldError> {
    match value {
        None => Err(FieldError::missing(source, "region")),
        Some(v) => Region::parse(v).ok_or_else(|| {
            FieldError::new(
                source,
                "region",
                "Input should be 'NA', 'EU' or 'FE'",
                "enum",
            )
        }),
    }
}

/// The longest range a report may span, both ends included.
pub const MAX_SPAN_DAYS: i64 = 366;

/// Values a comma-separated list parameter (`asins`, `link_ids`, `brand_ids`, `creators`)
/// may hold: as many as a page has rows.
pub const MAX_LIST_ITEMS: usize = 500;

/// Brand ids `/sellers/products` filters by (a seller has a handful of brands).
pub const MAX_BRAND_IDS: usize = 100;

/// Characters of a search, a filter text or an identifier (link, brand, creator ids).
pub const MAX_TEXT_CHARS: usize = 200;

/// Characters of a link name (the domain's rule), and so of a link-name filter.
pub const MAX_LINK_NAME_CHARS: usize = LinkName::MAX_CHARS;

/// Characters of the note a publisher sends with an access request.
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// Characters of a login name (an e-mail address: at most 254 by RFC 5321, with room).
pub const MAX_USERNAME_CHARS: usize = 320;

/// Characters of a password or a token sent to `/token` or `/token/revoke`.
pub const MAX_SECRET_CHARS: usize = 1024;

/// A value trimmed; `None` when absent or blank, as an empty query parameter means "not given".
pub fn text(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|s| !s.is_empty())
}

/// `true`/`1` or `false`/`0`, any case; `None` when absent or blank.
pub fn boolean(field: &str, value: Option<&str>) -> Result<Option<bool>, ApiError> {
    match text(value).map(str::to_ascii_lowercase).as_deref() {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(_) => Err(ApiError::validation(
            "query",
            field,
            "Input should be a valid boolean",
            "bool_parsing",
        )),
    }
}

/// `value` when it has at most `max` characters; else a 422 at `source`/`field`.
pub fn at_most_chars<'a>(
    source: &str,
    field: &str,
    value: &'a str,
    max: usize,
) -> Result<&'a str, ApiError> {
    // Counting stops past the limit, so a huge value costs no more than a long one.
    if value.chars().nth(max).is_some() {
        return Err(ApiError::validation(
            source,
            field,
            format!("String should have at most {max} characters"),
            "string_too_long",
        ));
    }
    Ok(value)
}

/// A search or filter text: trimmed, `None` when absent or blank, at most `max` characters.
pub fn filter<'a>(
    field: &str,
    value: Option<&'a str>,
    max: usize,
) -> Result<Option<&'a str>, ApiError> {
    text(value)
        .map(|v| at_most_chars("query", field, v, max))
        .transpose()
}

/// Comma-separated values, trimmed, empty ones dropped.
fn comma_list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A comma-separated list parameter of at most `max` values of at most
/// [`MAX_TEXT_CHARS`] characters each; else a 422 at `field` naming the limit.
pub fn list(field: &str, value: Option<&str>, max: usize) -> Result<Vec<String>, ApiError> {
    let items = comma_list(value);
    if items.len() > max {
        return Err(ApiError::validation(
            "query",
            field,
            format!(
                "List should have at most {max} items after validation, not {}",
                items.len()
            ),
            "too_long",
        ));
    }
    for item in &items {
        at_most_chars("query", field, item, MAX_TEXT_CHARS)?;
    }
    Ok(items)
}

/// Every item an ASIN, in its canonical (upper-case) form.
pub fn asins(items: Vec<String>) -> Result<Vec<String>, ApiError> {
    items
        .iter()
        .map(|a| Ok(Asin::parse(a)?.as_str().to_owned()))
        .collect()
}

/// A required `asin` query parameter.
pub fn required_asin(value: Option<&str>) -> Result<Asin, ApiError> {
    let raw =
        value.ok_or_else(|| ApiError::Validation(vec![FieldError::missing("query", "asin")]))?;
    Ok(Asin::parse(raw)?)
}

/// A required report date (`YYYY-MM-DD` or `YYYYMMDD`).
pub fn report_date(field: &str, value: Option<&str>) -> Result<Date, ApiError> {
    let Some(v) = text(value) else {
        return Err(ApiError::Validation(vec![FieldError::missing(
            "query", field,
        )]));
    };
    parse_report_date(v)
        .map_err(|e| ApiError::validation("query", field, e.to_string(), "date_parsing"))
}

/// Start and end (inclusive) as day numbers, in order and at most [`MAX_SPAN_DAYS`] apart.
pub fn date_range(
    start_field: &str,
    start: Option<&str>,
    end_field: &str,
    end: Option<&str>,
) -> Result<(i32, i32), ApiError> {
    let s = report_date(start_field, start)?;
    let e = report_date(end_field, end)?;
    if s > e {
        return Err(ApiError::validation(
            "query",
            start_field,
            format!("{start_field} must not be after {end_field}"),
            "value_error",
        ));
    }
    if (e - s).whole_days() + 1 > MAX_SPAN_DAYS {
        return Err(ApiError::validation(
            "query",
            end_field,
            format!("The range may span at most {MAX_SPAN_DAYS} days"),
            "value_error",
        ));
    }
    Ok((day_number(s), day_number(e)))
}

/// `marketplace` (with `all` when `allow_all`) or the legacy `country_code`; default amazon.com.
pub fn marketplace_selector(
    marketplace: Option<&str>,
    country_code: Option<&str>,
    allow_all: bool,
) -> Result<MarketplaceSelector, ApiError> {
    let selector = match (marketplace, country_code) {
        (Some(m), _) if allow_all => MarketplaceSelector::parse(m)?,
        (Some(m), _) => MarketplaceSelector::One(Marketplace::parse(m)?),
        (None, Some(c)) => MarketplaceSelector::One(Marketplace::from_country_code(c)?),
        (None, None) => MarketplaceSelector::One(Marketplace::Us),
    };
    Ok(selector)
}

/// The one marketplace a selector names, `None` for `all`.
pub fn only(selector: MarketplaceSelector) -> Option<Marketplace> {
    match selector {
        MarketplaceSelector::All => None,
        MarketplaceSelector::One(m) => Some(m),
    }
}

/// Report marketplaces: `marketplace` (or `all`), else the legacy `geo`, else `default`;
/// `None` means every marketplace.
pub fn marketplaces(
    marketplace: Option<&str>,
    geo: Option<&str>,
    default: Option<Marketplace>,
) -> Result<Option<Vec<String>>, ApiError> {
    let names = |ms: Vec<Marketplace>| ms.into_iter().map(|m| m.as_str().to_owned()).collect();
    Ok(match (text(marketplace), text(geo)) {
        (Some(m), _) => only(MarketplaceSelector::parse(m)?).map(|m| names(vec![m])),
        (None, Some(g)) => Some(names(Geo::parse(g)?.marketplaces())),
        (None, None) => default.map(|m| names(vec![m])),
    })
}

/// A body percentage 0–100 with at most 2 decimals, in basis points.
pub fn commission_bps(field: &str, pct: f64) -> Result<u32, ApiError> {
    Bps::from_percent_f64(pct).map(|b| b.0).map_err(|_| {
        ApiError::validation(
            "body",
            field,
            "Input should be a percentage between 0 and 100 with at most 2 decimal places",
            "value_error",
        )
    })
}

/// A JSON body that must be an object.
pub fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object().ok_or_else(|| {
        ApiError::validation(
            "body",
            "__root__",
            "Input should be a valid JSON object",
            "model_type",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn rejected_at(e: ApiError) -> Vec<String> {
        match e {
            ApiError::Validation(items) => items
                .into_iter()
                .map(|i| serde_json::to_string(&i.loc).unwrap_or_default())
                .collect(),
            other => vec![format!("{other:?}")],
        }
    }

    #[test]
    fn booleans() {
        for (raw, want) in [
            (None, None),
            (Some(""), None),
            (Some("  "), None),
            (Some("true"), Some(true)),
            (Some(" TRUE "), Some(true)),
            (Some("1"), Some(true)),
            (Some("false"), Some(false)),
            (Some("False"), Some(false)),
            (Some("0"), Some(false)),
        ] {
            assert_eq!(boolean("active", raw).unwrap(), want, "{raw:?}");
        }
        for bad in ["maybe", "yes", "no", "2", "t", "truthy"] {
            let e = boolean("active", Some(bad)).unwrap_err();
            assert_eq!(rejected_at(e), [r#"["query","active"]"#], "{bad}");
        }
    }

    #[test]
    fn lists() {
        assert_eq!(comma_list(Some(" a, ,b,,c ")), ["a", "b", "c"]);
        assert!(comma_list(None).is_empty());
        assert!(comma_list(Some(" , ")).is_empty());
        assert_eq!(list("asins", Some("a,b"), 2).unwrap().len(), 2);
        assert_eq!(
            rejected_at(list("asins", Some("a,b,c"), 2).unwrap_err()),
            [r#"["query","asins"]"#]
        );
        assert_eq!(
            asins(comma_list(Some("b0d45ks7qm, B0LMDESK01"))).unwrap(),
            ["B0D45KS7QM", "B0LMDESK01"]
        );
        assert!(asins(comma_list(Some("B0D45KS7QM,nope"))).is_err());
    }

    fn message_of(e: ApiError) -> String {
        match e {
            ApiError::Validation(items) => items.into_iter().map(|i| i.msg).collect(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn texts_are_limited_in_characters() {
        let wide = "é".repeat(MAX_TEXT_CHARS);
        assert_eq!(
            filter("search", Some(&format!(" {wide} ")), MAX_TEXT_CHARS).unwrap(),
            Some(wide.as_str())
        );
        let e = filter("search", Some(&format!("{wide}é")), MAX_TEXT_CHARS).unwrap_err();
        assert_eq!(message_of(e), "String should have at most 200 characters");
        assert_eq!(filter("search", Some("  "), MAX_TEXT_CHARS).unwrap(), None);
        let long = "m".repeat(MAX_MESSAGE_CHARS + 1);
        let e = at_most_chars("body", "message", &long, MAX_MESSAGE_CHARS).unwrap_err();
        assert_eq!(rejected_at(e), [r#"["body","message"]"#]);
        // A value of one over-long item is refused as well as one with too many.
        let e = list("link_ids", Some(&format!("a,{}", "x".repeat(201))), 10).unwrap_err();
        assert_eq!(rejected_at(e), [r#"["query","link_ids"]"#]);
    }

    #[test]
    fn asins_and_text() {
        assert_eq!(text(Some(" x ")), Some("x"));
        assert_eq!(text(Some(" ")), None);
        assert_eq!(
            required_asin(Some("b0d45ks7qm")).unwrap().as_str(),
            "B0D45KS7QM"
        );
        assert_eq!(
            rejected_at(required_asin(None).unwrap_err()),
            [r#"["query","asin"]"#]
        );
        assert!(required_asin(Some("x")).is_err());
    }

    #[test]
    fn ranges_are_checked() {
        assert_eq!(
            date_range("start", Some("2026-01-01"), "end", Some("20260131")).ok(),
            Some((20260101, 20260131))
        );
        assert!(date_range("start", Some("2026-02-01"), "end", Some("2026-01-31")).is_err());
        assert!(date_range("start", Some("2025-01-01"), "end", Some("2026-01-01")).is_ok());
        assert!(date_range("start", Some("2024-01-01"), "end", Some("2024-12-31")).is_ok());
        assert!(date_range("start", Some("2024-01-01"), "end", Some("2025-01-01")).is_err());
        assert!(date_range("start", Some("2026-13-01"), "end", Some("2026-01-01")).is_err());
        assert_eq!(
            rejected_at(date_range("start", None, "end", Some("2026-01-01")).unwrap_err()),
            [r#"["query","start"]"#]
        );
    }

    #[test]
    fn marketplace_choices() {
        let us = Some(vec!["amazon.com".to_owned()]);
        assert_eq!(marketplaces(None, None, None).unwrap(), None);
        assert_eq!(
            marketplaces(Some("all"), None, Some(Marketplace::Us)).unwrap(),
            None
        );
        assert_eq!(marketplaces(None, None, Some(Marketplace::Us)).unwrap(), us);
        assert_eq!(
            marketplaces(Some(" amazon.com "), Some("EU"), None).unwrap(),
            us
        );
        assert!(marketplaces(Some("amazon.jp"), None, None).is_err());
        assert_eq!(
            only(marketplace_selector(None, Some("DE"), true).unwrap()),
            Some(Marketplace::De)
        );
        assert_eq!(
            only(marketplace_selector(None, None, false).unwrap()),
            Some(Marketplace::Us)
        );
        assert!(marketplace_selector(Some("all"), None, false).is_err());
    }

    #[test]
    fn percentages() {
        assert_eq!(commission_bps("c", 12.5).unwrap(), 1250);
        assert!(commission_bps("c", 100.01).is_err());
        assert!(commission_bps("c", 1.234).is_err());
        assert!(object(&serde_json::json!([])).is_err());
        assert!(object(&serde_json::json!({})).is_ok());
    }

    proptest! {
        /// Whatever surrounds the accepted words (spaces, case) does not change the answer,
        /// and every other text is refused rather than read as false.
        #[test]
        fn booleans_accept_exactly_four_words(s in "\\PC{0,8}", pad in " {0,2}") {
            let padded = format!("{pad}{s}{pad}");
            let word = s.trim().to_ascii_lowercase();
            match boolean("b", Some(&padded)) {
                Ok(None) => prop_assert!(word.is_empty()),
                Ok(Some(true)) => prop_assert!(word == "true" || word == "1"),
                Ok(Some(false)) => prop_assert!(word == "false" || word == "0"),
                Err(_) => prop_assert!(!["", "true", "1", "false", "0"].contains(&word.as_str())),
            }
        }

        /// Joining values (without commas or surrounding blanks) and splitting them again
        /// gives them back, whatever blanks and empty items sit between.
        #[test]
        fn comma_lists_round_trip(items in proptest::collection::vec("[A-Za-z0-9_.-]{1,12}", 0..20), sep in " {0,2},[ ,]{0,3}") {
            let joined = items.join(&sep);
            prop_assert_eq!(comma_list(Some(&joined)), items);
        }

        /// A list is accepted exactly when it has at most the limit of values, and the
        /// refusal names the field and the limit.
        #[test]
        fn lists_are_limited(n in 0usize..1200, width in 1usize..4) {
            let raw = vec!["x".repeat(width); n].join(",");
            match list("link_ids", Some(&raw), MAX_LIST_ITEMS) {
                Ok(items) => prop_assert!(items.len() == n && n <= MAX_LIST_ITEMS),
                Err(e) => {
                    prop_assert!(n > MAX_LIST_ITEMS);
                    let msg = message_of(e);
                    prop_assert!(msg.contains("at most 500 items"), "{}", msg);
                }
            }
        }

        /// A text is accepted exactly when it has at most the limit of characters,
        /// whatever their width in bytes.
        #[test]
        fn texts_are_limited(s in "\\PC{0,300}") {
            let ok = at_most_chars("query", "search", &s, MAX_TEXT_CHARS).is_ok();
            prop_assert_eq!(ok, s.chars().count() <= MAX_TEXT_CHARS);
        }

        /// Any two days in order and at most 366 days apart make a range of their day
        /// numbers; the same days reversed never do.
        #[test]
        fn ranges_follow_the_calendar(a in 0i64..40_000, span in 0i64..400) {
            let s = date!(1990 - 01 - 01) + time::Duration::days(a);
            let e = s + time::Duration::days(span);
            let (sf, ef) = (quiver_domain::format_iso(s), quiver_domain::format_compact(e));
            let r = date_range("start", Some(&sf), "end", Some(&ef));
            if span < MAX_SPAN_DAYS {
                prop_assert_eq!(r.ok(), Some((day_number(s), day_number(e))));
            } else {
                prop_assert!(r.is_err());
            }
            if span > 0 {
                prop_assert!(date_range("start", Some(&ef), "end", Some(&sf)).is_err());
            }
        }
    }
}
