//! The body that creates a link, read the same way by `POST /generate_attribution_link`
//! and for every item of `POST /bulk_generate_attribution_links`.

use quiver_domain::{Asin, LinkName, Marketplace};
use serde_json::Value;

use crate::error::{ApiError, FieldError};
use crate::http::params;
use crate::linking::NewLink;

/// Validates a creation body in the order of spec §4 step 1: shape, retired `geo`,
/// ASIN and name (422), then marketplace (400).
pub fn parse_new_link(body: &Value) -> Result<NewLink, ApiError> {
    let obj = params::object(body)?;
    if obj.contains_key("geo") {
        return Err(ApiError::GeoRetired);
    }
    let mut errors = Vec::new();
    let text = |field: &str, errors: &mut Vec<FieldError>| -> Option<Option<String>> {
        match obj.get(field) {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s.clone())),
            Some(_) => {
                errors.push(FieldError::new(
                    "body",
                    field,
                    "Input should be a valid string",
                    "string_type",
                ));
                None
            }
        }
    };
    let asin = text("asin", &mut errors);
    let name = text("link_name", &mut errors);
    let marketplace = text("marketplace", &mut errors);
    if matches!(asin, Some(None)) {
        errors.push(FieldError::missing("body", "asin"));
    }
    let link_name = match name.flatten() {
        Some(n) => match LinkName::parse(&n) {
            Ok(n) => Some(n),
            Err(e) => {
                errors.push(FieldError::new(
                    "body",
                    "link_name",
                    e.to_string(),
                    "string_length",
                ));
                None
            }
        },
        None => None,
    };
    let mut label = |field: &str| match super::source::body_label(obj, field) {
        Ok(v) => v,
        Err(ApiError::Validation(mut e)) => {
            errors.append(&mut e);
            None
        }
        Err(_) => None,
    };
    let source = label("source");
    let sub_id = label("sub_id");
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let asin = Asin::parse(asin.flatten().as_deref().unwrap_or_default())?;
    let marketplace = match marketplace.flatten() {
        Some(m) => Marketplace::parse(&m)?,
        None => Marketplace::Us,
    };
    Ok(NewLink {
        asin,
        marketplace,
        link_name,
        source,
        sub_id,
    })
}
