//! The result CSV of a bulk job (spec §4): exactly these columns, one row per finished
//! item in submission order, quoted by the `csv` crate. The download and the e-mailed copy
//! are both this one function's output.

use quiver_domain::{Asin, LinkName};

use crate::store::bulk::{ItemResult, ItemStatus};

/// **(Quiver)** `Short URL` is last, so the spec's columns keep their places.
pub const HEADER: [&str; 7] = [
    "ASIN",
    "Marketplace",
    "Link Name",
    "Attribution URL",
    "Status",
    "Error",
    "Short URL",
];

/// The ASIN as stored on the link when valid (upper-case), else as submitted.
fn asin_cell(raw: &str) -> String {
    Asin::parse(raw).map_or_else(|_| raw.to_owned(), |a| a.to_string())
}

/// The link's name: as given (trimmed), or the ASIN when none was given.
fn name_cell(item: &ItemResult) -> String {
    match &item.link_name {
        Some(n) => LinkName::parse(n).map_or_else(|_| n.clone(), LinkName::into_inner),
        None => asin_cell(&item.asin),
    }
}

/// Defuses a cell a spreadsheet would evaluate (OWASP, "CSV Injection"): one that begins
/// with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, which
/// spreadsheets show as text and do not run. A plain number (`-12.50`) is not a formula
/// and stays as it is. The same rule is `csvEscape` in `web/js/ui.js`.
pub fn neutralise(cell: String) -> String {
    let risky = cell
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'));
    if risky && !is_plain_number(&cell) {
        format!("'{cell}")
    } else {
        cell
    }
}

fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// `short_prefix`: what each short URL starts with (`Clicks::short_prefix`).
pub fn results_csv(items: &[ItemResult], short_prefix: &str) -> Result<Vec<u8>, csv::Error> {
    // Declaring `'` the comment character makes the writer quote every cell containing
    // one, so each defused cell is also a quoted cell (OWASP asks for both). Readers
    // that are not told of a comment character see ordinary quoted cells.
    let mut w = csv::WriterBuilder::new()
        .comment(Some(b'\''))
        .from_writer(Vec::with_capacity(64 + items.len() * 200));
    w.write_record(HEADER)?;
    for item in items {
        let ok = item.status == ItemStatus::Done;
        let (url, error) = if ok {
            (item.url.clone().unwrap_or_default(), String::new())
        } else {
            let e = item.error.clone().filter(|e| !e.is_empty());
            (
                String::new(),
                e.unwrap_or_else(|| "Unknown error".to_owned()),
            )
        };
        w.write_record(
            [
                asin_cell(&item.asin),
                item.marketplace.clone(),
                name_cell(item),
                url,
                (if ok { "ok" } else { "error" }).to_owned(),
                error,
                match (&item.short_code, ok) {
                    (Some(code), true) => format!("{short_prefix}{code}"),
                    _ => String::new(),
                },
            ]
            .map(neutralise),
        )?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(position: i32, name: Option<&str>, ok: bool) -> ItemResult {
        ItemResult {
            position,
            asin: "b0d45ks7qm".into(),
            marketplace: "amazon.de".into(),
            link_name: name.map(str::to_owned),
            status: if ok {
                ItemStatus::Done
            } else {
                ItemStatus::Error
            },
            url: ok.then(|| "https://www.amazon.de/dp/B0D45KS7QM?a=1&b=2".to_owned()),
            error: (!ok).then(|| "Product not found: \"x\", really".to_owned()),
            short_code: ok.then(|| "aB3dE5gH".to_owned()),
        }
    }

    #[test]
    fn round_trips_commas_quotes_newlines_and_non_ascii() {
        let names = [
            "plain",
            "comma, inside",
            "quote \" inside",
            "line\nbreak",
            "Grüße – 春の セール 🎉",
        ];
        let items: Vec<_> = names
            .iter()
            .enumerate()
            .map(|(i, n)| item(i as i32, Some(n), i % 2 == 0))
            .collect();
        let bytes = results_csv(&items, "https://q.example/r/").unwrap();
        let mut r = csv::Reader::from_reader(bytes.as_slice());
        assert_eq!(r.headers().unwrap(), HEADER.as_slice());
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), names.len());
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(&row[0], "B0D45KS7QM");
            assert_eq!(&row[2], names[i]);
            if i % 2 == 0 {
                assert_eq!(&row[4], "ok");
                assert!(row[3].starts_with("https://"));
                assert_eq!(&row[5], "");
            } else {
                assert_eq!(&row[4], "error");
                assert_eq!(&row[3], "");
                assert_eq!(&row[5], "Product not found: \"x\", really");
            }
        }
    }

    #[test]
    fn formulas_are_defused_and_quoted() {
        let names = [
            "=HYPERLINK(\"http://evil.example\",\"x\")",
            "\t=1+1",
            "+1+2",
            "-2+3",
            "@SUM(A1)",
            "\r=1",
        ];
        let mut items: Vec<_> = names
            .iter()
            .enumerate()
            .map(|(i, n)| item(i as i32, Some(n), true))
            .collect();
        // An invalid ASIN is written as submitted, so it is defused too.
        let mut bad = item(9, Some("-12.50"), false);
        bad.asin = "=cmd|' /C calc'!A0".into();
        items.push(bad);
        let text = String::from_utf8(results_csv(&items, "https://q.example/r/").unwrap()).unwrap();
        let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(Result::unwrap)
            .collect();
        // The name is trimmed first (a tab-prefixed name would become a live formula),
        // then defused.
        let expected = [
            "'=HYPERLINK(\"http://evil.example\",\"x\")",
            "'=1+1",
            "'+1+2",
            "'-2+3",
            "'@SUM(A1)",
            "'=1",
        ];
        for (row, want) in rows.iter().zip(expected) {
            assert_eq!(&row[2], want);
        }
        assert!(
            text.contains("\"'@SUM(A1)\""),
            "defused cells are quoted: {text}"
        );
        assert_eq!(&rows[6][0], "'=cmd|' /C calc'!A0");
        assert_eq!(&rows[6][2], "-12.50", "a plain number is not a formula");
        assert_eq!(neutralise("ok".into()), "ok");
        assert_eq!(neutralise("+49 30 1234".into()), "'+49 30 1234");
    }

    #[test]
    fn default_name_is_the_asin_and_errors_are_never_empty() {
        let mut it = item(0, None, false);
        it.error = None;
        let bytes = results_csv(&[it], "https://q.example/r/").unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "ASIN,Marketplace,Link Name,Attribution URL,Status,Error,Short URL\n\
             B0D45KS7QM,amazon.de,B0D45KS7QM,,error,Unknown error,\n"
        );
    }
}
