//! `POST /bulk_generate_attribution_links`, `GET /bulk_jobs/{job_id}` and
//! `GET /bulk_jobs/{job_id}/results.csv` (spec §4), and **(Quiver)** `GET /bulk_jobs`. The work
//! itself is in `jobs`.

use axum::Json as JsonResponse;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use quiver_domain::Marketplace;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult, FieldError, Problem, Unprocessable, ValidationProblem};
use crate::http::extract::Publisher;
use crate::http::extract::{Json, Query};
use crate::http::objects::new_link::parse_new_link;
use crate::http::params;
use crate::jobs::{self, MAX_ITEMS};
use crate::objects::bulk_job::BulkJob;
use crate::quotas;
use crate::state::AppState;
use crate::store::bulk::{NewItem, NewJob};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit))
        .routes(routes!(job_list))
        .routes(routes!(job_status))
        .routes(routes!(job_results))
}

/// One link to create; the same fields as `POST /generate_attribution_link`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BulkItem {
    #[schema(example = "B0D45KS7QM")]
    pub asin: String,
    /// 1–200 characters after trimming; defaults to the ASIN.
    pub link_name: Option<String>,
    /// Default `amazon.com`.
    #[schema(example = "amazon.de")]
    pub marketplace: Option<String>,
    /// **(Quiver)** Where the link is posted: 1–64 letters, digits, `.`, `_`, `-`.
    #[schema(example = "youtube")]
    pub source: Option<String>,
    /// **(Quiver)** The creator's own sub-id, same rules as `source`.
    pub sub_id: Option<String>,
}

/// The body of `POST /bulk_generate_attribution_links`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BulkRequest {
    /// 1 to 5,000 links.
    pub links: Vec<BulkItem>,
    /// Where to send the result CSV: the account's own address (any case), which is also
    /// the default; any other address is refused (422).
    pub email: Option<String>,
}

/// The job was accepted.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkAccepted {
    pub job_id: String,
    /// Number of items in the job (every submitted item gets a result row).
    pub queued_count: usize,
    /// Where the results will be e-mailed.
    pub email: String,
    /// Always `queued`.
    pub status: &'static str,
}

fn text_of(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A plausible address: something@domain, nothing that could smuggle headers.
fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.len() <= 254
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
        && !domain.contains('@')
}

/// Validates the request and turns each item into a pending item or an error row.
fn parse_request(body: &Value, default_email: &str) -> Result<(Vec<NewItem>, String), ApiError> {
    let obj = params::object(body)?;
    let links = match obj.get("links") {
        None | Some(Value::Null) => {
            return Err(ApiError::Validation(vec![FieldError::missing(
                "body", "links",
            )]));
        }
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(ApiError::validation(
                "body",
                "links",
                "Input should be a valid list",
                "list_type",
            ));
        }
    };
    if links.is_empty() {
        return Err(ApiError::validation(
            "body",
            "links",
            "List should have at least 1 item after validation, not 0",
            "too_short",
        ));
    }
    if links.len() > MAX_ITEMS {
        return Err(ApiError::validation(
            "body",
            "links",
            format!(
                "List should have at most {MAX_ITEMS} items after validation, not {}",
                links.len()
            ),
            "too_long",
        ));
    }
    // Only the account's own address: anything else would make Quiver mail content the
    // caller chose, from Quiver's sender, to whoever the caller names.
    let email = match obj.get("email") {
        None | Some(Value::Null) => default_email.to_owned(),
        Some(Value::String(s)) if s.trim().to_lowercase() == default_email.to_lowercase() => {
            default_email.to_owned()
        }
        Some(Value::String(s)) if valid_email(s.trim()) => {
            return Err(ApiError::validation(
                "body",
                "email",
                "Results can only be e-mailed to your account's own address",
                "value_error",
            ));
        }
        Some(_) => {
            return Err(ApiError::validation(
                "body",
                "email",
                "value is not a valid email address",
                "value_error",
            ));
        }
    };
    // An unsupported marketplace anywhere refuses the whole request (400), before anything
    // else is looked at, so nothing is queued.
    let mut marketplaces = Vec::with_capacity(links.len());
    for item in links {
        let m = match item.get("marketplace") {
            Some(Value::String(s)) => Some(Marketplace::parse(s)?),
            _ => None,
        };
        marketplaces.push(m);
    }
    let items = links
        .iter()
        .zip(marketplaces)
        .map(|(item, m)| {
            let marketplace = match (m, item.get("marketplace")) {
                (Some(m), _) => m.as_str().to_owned(),
                (None, None | Some(Value::Null)) => Marketplace::Us.as_str().to_owned(),
                (None, other) => text_of(other),
            };
            let link_name = match item.get("link_name") {
                None | Some(Value::Null) => None,
                other => Some(text_of(other)),
            };
            // Labels are kept only from a valid item; an invalid one is stored finished.
            let (source, sub_id, error) = match parse_new_link(item) {
                Ok(link) => (link.source, link.sub_id, None),
                Err(e) => (None, None, Some(jobs::bulk::error_text(&e))),
            };
            NewItem {
                asin: text_of(item.get("asin")),
                marketplace,
                link_name,
                source,
                sub_id,
                error,
            }
        })
        .collect();
    Ok((items, email))
}

/// Queue up to 5,000 links at once.
///
/// The job runs in the background, survives restarts and creates each link exactly once.
/// An unsupported marketplace in any item refuses the whole request (400, nothing queued);
/// every other per-item problem (malformed ASIN, bad name, unknown product, no access,
/// Amazon unavailable after retries) becomes an error row of the result CSV. When done,
/// the CSV is e-mailed to `email` (when SMTP is configured).
#[utoipa::path(post, path = "/bulk_generate_attribution_links", tag = "links", security(("bearer" = [])),
    request_body = BulkRequest,
    responses(
        (status = 202, body = BulkAccepted, description = "Queued"),
        (status = 400, body = Problem, description = "`unsupported_marketplace` in some item; nothing was queued"),
        (status = 403, body = Problem, description = "`wrong_account_type`, `email_not_verified` or `insufficient_scope` (a read-only API key)"),
        (status = 413, body = Problem, description = "`payload_too_large`"),
        (status = 422, body = ValidationProblem, description = "No links, more than 5,000, a malformed body, or an `email` other than the account's own"),
        (status = 429, body = Problem, description = "`quota_exceeded`: too many bulk jobs open, items waiting or links in 24 hours for this account"),
    ))]
async fn submit(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    if !who.email_verified {
        return Err(ApiError::EmailNotVerified);
    }
    let (items, email) = parse_request(&body, &who.email)?;
    let job = NewJob {
        id: uuid::Uuid::now_v7().to_string(),
        account_id: who.account_id.clone(),
        email: email.clone(),
        created_at: now_ms(),
    };
    let needing_links = items.iter().filter(|i| i.error.is_none()).count() as i64;
    let quotas = state.settings.quotas;
    let now = job.created_at;
    state
        .db
        .create_bulk_job_within(&job, &items, now - quotas::DAY_MS, |load| {
            quotas::admit_bulk(&quotas, load, needing_links, now)
        })
        .await??;
    jobs::wake();
    tracing::info!(job = %job.id, items = items.len(), "bulk job queued");
    Ok((
        StatusCode::ACCEPTED,
        JsonResponse(BulkAccepted {
            job_id: job.id,
            queued_count: items.len(),
            email,
            status: "queued",
        }),
    )
        .into_response())
}

fn job_not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Bulk job not found: {id}"))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// 1–100, default 20.
    limit: Option<i64>,
}

/// **(Quiver)** Your most recent bulk jobs, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkJobs {
    bulk_jobs: Vec<BulkJob>,
}

/// **(Quiver)** Your most recent bulk jobs with their progress, newest first, so a job can be
/// followed after leaving the page that submitted it.
#[utoipa::path(get, path = "/bulk_jobs", tag = "links", params(JobsQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = BulkJobs),
        (status = 422, body = Unprocessable, description = "`limit` outside 1–100"),
    ))]
async fn job_list(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Query(q): Query<JobsQuery>,
) -> ApiResult<JsonResponse<BulkJobs>> {
    let limit = crate::http::extract::bounded("limit", q.limit, 20, 1, 100)?;
    let jobs = state.db.bulk_jobs_of(&who.account_id, limit).await?;
    Ok(JsonResponse(BulkJobs {
        bulk_jobs: jobs.into_iter().map(BulkJob::from).collect(),
    }))
}

/// **(Quiver)** A bulk job's progress. Only its owner sees it.
#[utoipa::path(get, path = "/bulk_jobs/{job_id}", tag = "links", security(("bearer" = [])),
    params(("job_id" = String, Path, description = "From the submission's answer")),
    responses(
        (status = 200, body = BulkJob),
        (status = 404, body = Problem, description = "No such job of yours"),
    ))]
async fn job_status(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Path(job_id): Path<String>,
) -> ApiResult<JsonResponse<BulkJob>> {
    let job = state
        .db
        .bulk_job(&job_id, &who.account_id)
        .await?
        .ok_or_else(|| job_not_found(&job_id))?;
    Ok(JsonResponse(job.into()))
}

/// **(Quiver)** The result CSV so far: one row per finished item, in submission order.
/// Columns `ASIN,Marketplace,Link Name,Attribution URL,Status,Error`.
#[utoipa::path(get, path = "/bulk_jobs/{job_id}/results.csv", tag = "links", security(("bearer" = [])),
    params(("job_id" = String, Path, description = "From the submission's answer")),
    responses(
        (status = 200, content_type = "text/csv", body = String),
        (status = 404, body = Problem, description = "No such job of yours"),
    ))]
async fn job_results(
    State(state): State<AppState>,
    Publisher(who): Publisher,
    Path(job_id): Path<String>,
) -> ApiResult<Response> {
    state
        .db
        .bulk_job(&job_id, &who.account_id)
        .await?
        .ok_or_else(|| job_not_found(&job_id))?;
    let rows = state.db.bulk_results(&job_id).await?;
    let prefix = state.clicks.short_prefix(state.joining.public_url());
    let csv = jobs::csv::results_csv(&rows, &prefix).map_err(|e| ApiError::Internal(e.into()))?;
    let disposition = format!("attachment; filename=\"quiver-bulk-{job_id}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emails() {
        assert!(valid_email("a@b.co"));
        for bad in [
            "",
            "a",
            "@b.co",
            "a@b",
            "a@.b",
            "a b@c.de",
            "a@b.co\r\nBcc: x@y.z",
            "a@b@c.de",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn a_bad_marketplace_anywhere_refuses_everything() {
        let body =
            json!({"links": [{"asin": "B0D45KS7QM"}, {"asin": "x", "marketplace": "amazon.moon"}]});
        assert!(matches!(
            parse_request(&body, "a@b.co"),
            Err(ApiError::UnsupportedMarketplace(_))
        ));
    }

    #[test]
    fn other_problems_become_error_rows() {
        let body = json!({"links": [
            {"asin": "b0d45ks7qm", "marketplace": "WWW.Amazon.DE", "link_name": " n "},
            {"asin": "nope"},
            {"asin": "B0D45KS7QM", "link_name": "   "},
            {"link_name": "no asin"},
        ]});
        let (items, email) = parse_request(&body, "me@x.io").unwrap();
        assert_eq!(email, "me@x.io");
        assert_eq!(items[0].marketplace, "amazon.de");
        assert_eq!(items[0].error, None);
        assert_eq!(items[1].marketplace, "amazon.com");
        assert_eq!(
            items[1].error.as_deref(),
            Some("Invalid ASIN 'nope': expected 10 letters or digits")
        );
        assert!(items[2].error.is_some());
        assert_eq!(items[3].error.as_deref(), Some("asin: Field required"));
    }
}
