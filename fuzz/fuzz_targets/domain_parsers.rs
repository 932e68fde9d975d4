//! The domain's text parsers, which every request's ASIN, marketplace, date, amount, name
//! and cursor go through: none may panic, and what they accept must round-trip. (Only the
//! pure domain crate is built with sanitizers, so a CI run stays within minutes.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use quiver_domain::{
    Asin, Bps, Cursor, CursorKey, Geo, LinkName, Marketplace, MarketplaceSelector, Money, fill_tag_template,
    format_iso, parse_report_date,
};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(a) = Asin::parse(s) {
        assert_eq!(Asin::parse(a.as_str()).as_ref(), Ok(&a));
        let _ = fill_tag_template(s, Marketplace::Us, &a, "c", "g", "r");
    }
    if let Ok(m) = Marketplace::parse(s) {
        assert_eq!(Marketplace::parse(m.as_str()), Ok(m));
    }
    let _ = Marketplace::from_country_code(s);
    let _ = MarketplaceSelector::parse(s);
    let _ = Geo::parse(s);
    if let Ok(d) = parse_report_date(s) {
        assert_eq!(parse_report_date(&format_iso(d)), Ok(d));
    }
    if let Ok(v) = Money::parse_amount(s) {
        assert!(v >= 0);
    }
    if let Ok(b) = Bps::parse_percent(s) {
        assert!(b.0 <= 10_000);
    }
    let _ = LinkName::parse(s);
    let key = CursorKey::derive(b"fuzz");
    let _ = Cursor::decode::<serde_json::Value>(&key, s);
    // serde_json reads floats back only approximately, so the round trip is checked on
    // positions without them (cursors hold strings and integers).
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(s)
        && !has_float(&v)
    {
        let c = Cursor::encode(&key, &v);
        assert_eq!(Cursor::decode::<serde_json::Value>(&key, &c).ok(), Some(v));
    }
});

fn has_float(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Number(n) => n.is_f64(),
        serde_json::Value::Array(a) => a.iter().any(has_float),
        serde_json::Value::Object(o) => o.values().any(has_float),
        _ => false,
    }
}
