//! The browser app at `/app`: static files compiled into the binary from `crates/server/web/`
//! (no CDN, no Node at run time). They are not part of the JSON API, so they stay out of the
//! OpenAPI document; the app calls the documented API from the same origin.
//!
//! CSRF: the API authenticates with an `Authorization: Bearer` header that the app's script
//! sets from `sessionStorage`. Browsers never attach that header on their own, so a page on
//! another site cannot make an authenticated request on a user's behalf, and the app sets
//! no cookie. Any future cookie-authenticated, state-changing endpoint must add its own CSRF
//! check (e.g. a same-origin `Origin` check or a double-submit token).

use std::sync::OnceLock;

use axum::Router;
use axum::handler::Handler;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// Scripts, styles and API calls only from this origin; no inline code, no framing.
/// Images also from the catalog's image hosts (Amazon's media servers, and the demo
/// catalog's host); `data:` and `blob:` images are the QR codes the app draws itself.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob: https://m.media-amazon.com \
     https://images-na.ssl-images-amazon.com https://assets.quiver.example; connect-src 'self'; font-src 'self'; \
     manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $type:expr) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/", $path)),
        }
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("js/main.js", JS),
    asset!("js/api.js", JS),
    asset!("js/ui.js", JS),
    asset!("js/creator.js", JS),
    asset!("js/reports.js", JS),
    asset!("js/seller.js", JS),
    asset!("js/account.js", JS),
    asset!("js/join.js", JS),
    asset!("js/clicks.js", JS),
    asset!("js/qr.js", JS),
    asset!("js/bulk.js", JS),
    asset!("js/access.js", JS),
    asset!("js/brand-access.js", JS),
    asset!("js/overview.js", JS),
    asset!("js/earnings.js", JS),
    asset!("js/statements.js", JS),
    asset!("js/amazon.js", JS),
    asset!("js/webhooks.js", JS),
    asset!("vendor/chart-4.6.1.umd.js", JS),
    asset!("vendor/qrcode-generator-2.0.4.mjs", JS),
];

/// One hash over every asset, computed at start. The page and the modules refer to the
/// app's files as `<file>?v=<hash>`, so a browser keeps them for a year and still loads a
/// new release at once (its page, always revalidated, names the new hash).
fn release() -> &'static str {
    static RELEASE: OnceLock<String> = OnceLock::new();
    RELEASE.get_or_init(|| {
        let mut h = Sha256::new();
        for a in ASSETS {
            h.update(a.path.as_bytes());
            h.update(a.body);
        }
        hex(&h.finalize()[..8])
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bodies as served: references between the app's own files carry `?v=<release>`.
/// Every module names the others the same way, so each is loaded (and evaluated) once.
fn bodies() -> &'static [Vec<u8>] {
    static BODIES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    BODIES.get_or_init(|| {
        let v = release();
        ASSETS
            .iter()
            .map(|a| {
                if a.path.starts_with("vendor/")
                    || !(a.path.ends_with(".js") || a.path.ends_with(".html"))
                {
                    return a.body.to_vec();
                }
                let mut text = String::from_utf8_lossy(a.body).into_owned();
                for other in ASSETS.iter().filter(|o| !o.path.starts_with("vendor/")) {
                    let file = other.path.rsplit('/').next().unwrap_or(other.path);
                    for quote in ['\'', '"'] {
                        for prefix in ["./", "/app/js/", "/app/"] {
                            let from = format!("{quote}{prefix}{file}{quote}");
                            let to = format!("{quote}{prefix}{file}?v={v}{quote}");
                            text = text.replace(&from, &to);
                        }
                    }
                }
                text.into_bytes()
            })
            .collect()
    })
}

/// Strong validators of the served bodies, computed once: assets change only with the binary.
fn etags() -> &'static [String] {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        bodies()
            .iter()
            .map(|b| format!("\"{}\"", hex(&Sha256::digest(b)[..12])))
            .collect()
    })
}

/// `/` → `/app`, `/app` and `/app/` → the page, `/app/<file>` → that file.
pub fn router() -> Router<AppState> {
    Router::new()
        .route_service("/", root.with_state(()))
        .route_service("/app", page.with_state(()))
        .route_service("/app/", page.with_state(()))
        .route_service("/app/{*file}", file.with_state(()))
}

async fn root(method: Method) -> Response {
    if !readable(&method) {
        return method_not_allowed();
    }
    Redirect::to("/app").into_response()
}

async fn page(method: Method, headers: HeaderMap) -> Response {
    serve("index.html", false, &method, &headers)
}

async fn file(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let name = uri.path().strip_prefix("/app/").unwrap_or_default();
    let versioned = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .any(|kv| kv.strip_prefix("v=") == Some(release()));
    serve(name, versioned, &method, &headers)
}

fn readable(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

fn method_not_allowed() -> Response {
    let mut r = StatusCode::METHOD_NOT_ALLOWED.into_response();
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    r
}

fn serve(name: &str, versioned: bool, method: &Method, headers: &HeaderMap) -> Response {
    if !readable(method) {
        return method_not_allowed();
    }
    let Some(i) = ASSETS.iter().position(|a| a.path == name) else {
        return ApiError::UnknownPath.into_response();
    };
    let asset = &ASSETS[i];
    let etag = &etags()[i];
    // Vendored files carry their version in the name and the app's files the release hash
    // in the query, so neither changes under its URL; anything else is revalidated.
    let cache = if name.starts_with("vendor/") || (versioned && name != "index.html") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            )],
            bodies()[i].as_slice(),
        )
            .into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_type_matching_its_extension() {
        for a in ASSETS {
            let want = match a.path.rsplit('.').next() {
                Some("html") => HTML,
                Some("js" | "mjs") => JS,
                Some("css") => "text/css; charset=utf-8",
                Some("svg") => "image/svg+xml",
                other => panic!("no type for {other:?}"),
            };
            assert_eq!(a.content_type, want, "{}", a.path);
            assert!(!a.body.is_empty(), "{}", a.path);
        }
    }
}
