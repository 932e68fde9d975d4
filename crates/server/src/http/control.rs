//! Control characters in request input: refused with a 422 naming the field, the same on
//! both engines. PostgreSQL cannot store NUL in text at all (every NUL used to be a 500
//! there), and no identifier, name, ASIN or address has a use for the rest of C0; only
//! prose a person wrote may hold tabs and line breaks.

use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{RawPathParams, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::{ApiError, FieldError};

/// Fields holding prose (an access request's message): tab, CR and LF belong there.
const FREE_TEXT: &[&str] = &["message"];

fn forbidden(c: char, free_text: bool) -> bool {
    c <= '\u{1f}' && !(free_text && matches!(c, '\t' | '\n' | '\r'))
}

fn offending(field: &str, value: &str) -> Option<char> {
    let free_text = FREE_TEXT.contains(&field);
    value.chars().find(|&c| forbidden(c, free_text))
}

fn refusal(loc: Vec<Value>, c: char) -> ApiError {
    ApiError::Validation(vec![FieldError {
        loc,
        msg: format!(
            "Input should not contain control characters (found U+{:04X})",
            u32::from(c)
        ),
        kind: "value_error".into(),
    }])
}

/// Checks every value of an `application/x-www-form-urlencoded` input (a query string or
/// a form body); `source` is `query` or `body`.
pub fn check_urlencoded(source: &str, input: &[u8]) -> Result<(), ApiError> {
    for (name, value) in url::form_urlencoded::parse(input) {
        if let Some(c) = offending(&name, &value) {
            return Err(refusal(vec![source.into(), name.as_ref().into()], c));
        }
    }
    Ok(())
}

/// Checks every string of a JSON body. JSON can carry a control character only as an
/// escape, so a body without a backslash is not parsed a second time.
pub fn check_json(body: &[u8]) -> Result<(), ApiError> {
    if !body.contains(&b'\\') {
        return Ok(());
    }
    // A body that is not JSON is reported by the extractor's own parse.
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Ok(());
    };
    let mut loc = vec![Value::from("body")];
    match walk(&value, &mut loc, "") {
        Some(c) => Err(refusal(loc, c)),
        None => Ok(()),
    }
}

/// Depth-first; on a hit `loc` is left pointing at the offending value.
fn walk(value: &Value, loc: &mut Vec<Value>, field: &str) -> Option<char> {
    match value {
        Value::String(s) => offending(field, s),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            loc.push(i.into());
            let hit = walk(v, loc, field);
            if hit.is_none() {
                loc.pop();
            }
            hit
        }),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            loc.push(k.as_str().into());
            let hit = walk(v, loc, k);
            if hit.is_none() {
                loc.pop();
            }
            hit
        }),
        _ => None,
    }
}

/// Middleware over the routed request: path parameters (`/links/%00`) are checked once
/// here rather than in every handler's `Path`.
pub async fn path_params(
    params: Result<RawPathParams, RawPathParamsRejection>,
    req: Request,
    next: Next,
) -> Response {
    // Parameters that are not even UTF-8 are the handler's `Path` to refuse.
    if let Ok(params) = params {
        for (name, value) in params.iter() {
            if let Some(c) = offending(name, value) {
                return refusal(vec!["path".into(), name.into()], c).into_response();
            }
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(e: ApiError) -> Vec<Value> {
        match e {
            ApiError::Validation(items) => items[0].loc.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_the_field_holding_the_character() {
        let body = br#"{"links": [{"asin": "B0D45KS7QM"}, {"asin": "x", "link_name": "a\u0000"}]}"#;
        assert_eq!(
            loc(check_json(body).unwrap_err()),
            serde_json::json!(["body", "links", 1, "link_name"])
                .as_array()
                .unwrap()
                .clone()
        );
        assert_eq!(
            loc(
                check_urlencoded("query", b"asin=B0D45KS7QM&marketplace=amazon.de%01").unwrap_err()
            ),
            vec![Value::from("query"), Value::from("marketplace")]
        );
    }

    #[test]
    fn prose_may_hold_line_breaks_and_tabs_but_nothing_else() {
        assert!(check_json(br#"{"brand_id": "b", "message": "Hi,\r\n\tplease"}"#).is_ok());
        assert!(check_json(br#"{"brand_id": "b", "message": "bell \u0007"}"#).is_err());
        assert!(check_json(br#"{"link_name": "tab\tname"}"#).is_err());
        assert!(check_json(br#"{"link_name": "quote \" and slash \\ and \u00e9"}"#).is_ok());
        assert!(check_urlencoded("body", b"username=a%09b").is_err());
        assert!(check_urlencoded("body", b"password=caf%C3%A9+%7F").is_ok());
    }
}
