//! **(Quiver)** A link's `source` and `sub_id`: the creator's own labels for where a link
//! is posted (`youtube`, `instagram`) and which post it is. Both follow one rule: 1–64
//! characters of ASCII letters, digits, `.`, `_` and `-`.

use serde_json::Value;

use crate::error::ApiError;

pub const MAX_LABEL_CHARS: usize = 64;

/// A label's value checked, or a 422 naming the field.
pub fn label(loc: &str, field: &str, value: &str) -> Result<String, ApiError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_LABEL_CHARS
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(ApiError::validation(
            loc,
            field,
            format!(
                "{field} must be 1 to {MAX_LABEL_CHARS} characters of letters, digits, '.', '_' or '-'"
            ),
            "invalid_label",
        ))
    }
}

/// A label in a JSON body: absent or null is `None`; anything but a valid string is a 422.
pub fn body_label(
    body: &serde_json::Map<String, Value>,
    field: &str,
) -> Result<Option<String>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => label("body", field, s).map(Some),
        Some(_) => Err(ApiError::validation(
            "body",
            field,
            "Input should be a valid string",
            "string_type",
        )),
    }
}

/// A label filter in a query string: empty is no filter.
pub fn query_label(field: &str, value: Option<&str>) -> Result<Option<String>, ApiError> {
    match value {
        None | Some("") => Ok(None),
        Some(v) => label("query", field, v).map(Some),
    }
}
