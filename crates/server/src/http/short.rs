//! **(Quiver)** `GET /r/{code}`: a link's short URL. It answers from memory (the code map
//! in `clicks`), never from the database, and counts the request in memory; a job writes
//! the counts. Mounted outside the API's middleware (rate limits, header checks): a
//! shopper's click is not an API call, and the redirect must stay as cheap as a bare 302.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clicks::Outcome;
use crate::clock::now_ms;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(redirect))
}

const NOT_FOUND_PAGE: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Link not found</title></head><body><main><h1>Link not found</h1>\
<p>This short link does not exist. Check that it was copied whole.</p></main></body></html>\n";

/// The page every unknown or malformed short URL gets, whatever its path.
pub fn not_found() -> Response {
    let mut r = (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        NOT_FOUND_PAGE,
    )
        .into_response();
    headers(&mut r);
    r
}

/// Every answer: not cached anywhere (each click must reach Quiver) and not sniffed.
fn headers(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// Follow a short link: 302 to the link's Amazon attribution URL.
///
/// Paused and archived links redirect too (pausing stops crediting, not shoppers). The
/// click is counted unless it comes from a bot or crawler, a link-preview fetcher, a
/// prefetch, is a `HEAD` (answered the same, never counted), or repeats the same client's
/// request within 30 s (a window each server process keeps for the clients it served:
/// behind a load balancer without sticky sessions a repeat on another process counts);
/// those are counted apart, by reason. A link keeps at most 50 referrer hosts per UTC hour
/// in each process; clicks from further hosts count under `other`. An unknown or
/// malformed code gets a small HTML 404 page. Answers carry
/// `Cache-Control: private, no-store`.
#[utoipa::path(get, path = "/r/{code}", tag = "short links",
    params(("code" = String, Path, description = "The link's short code: 8 letters or digits, case-sensitive")),
    responses(
        (status = 302, description = "To the link's attribution URL", headers(
            ("Location" = String, description = "The link's `url`"),
            ("Cache-Control" = String, description = "`private, no-store`"))),
        (status = 404, description = "Unknown or malformed code: a small HTML page", content_type = "text/html", body = String),
    ))]
async fn redirect(State(state): State<AppState>, req: Request) -> Response {
    let raw = req
        .uri()
        .path()
        .strip_prefix("/r/")
        .unwrap_or("")
        .as_bytes();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let outcome = state
        .clicks
        .visit(raw, req.method(), req.headers(), peer, now_ms());
    let Outcome::Redirect(location) = outcome else {
        return not_found();
    };
    let mut r = StatusCode::FOUND.into_response();
    r.headers_mut().insert(header::LOCATION, location);
    headers(&mut r);
    r
}
