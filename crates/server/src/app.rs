//! Router assembly: every resource's routes, the middleware stack, and the bound server.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::classify::ServerErrorsFailureClass;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;
use utoipa_axum::router::OpenApiRouter;

use crate::config::ConnectionLimits;
use crate::connections;
use crate::error::{self, ApiError};
use crate::http;
use crate::state::AppState;

pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

async fn unknown_path(uri: axum::http::Uri) -> axum::response::Response {
    // A short URL with more than one segment is a malformed code: the same page as any.
    if uri.path().starts_with("/r/") {
        return http::short::not_found();
    }
    ApiError::UnknownPath.into_response()
}

/// Every API route, with the OpenAPI document generated from the same handlers.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(http::docs::base_document())
        .merge(http::health::router())
        .merge(http::auth::router())
        .merge(http::catalog::router())
        .merge(http::links::router())
        .merge(http::sellers::router())
        .merge(http::access::router())
        .merge(http::reports::router())
        .merge(http::report_sources::router())
        .merge(http::statements::router())
        .merge(http::legacy_reports::router())
        .merge(http::summary::router())
        .merge(http::bulk::router())
        .merge(http::signup::router())
        .merge(http::account::router())
        .merge(http::invitations::router())
        .merge(http::clicks::router())
        .merge(http::profiles::router())
        .merge(http::webhooks::router())
}

pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let (api, mut document) = api().split_for_parts();
    // Short URLs are served outside the API's middleware (see http/short.rs), but
    // described in the same document.
    let (short, short_doc) = http::short::router().split_for_parts();
    document.merge(short_doc);
    let short = short.with_state(state.clone());
    let limiter = (state.limiter.clone(), state.tokens.clone());
    let cors = cors_layer(&state.settings.cors_origins);
    api.merge(http::docs::router(document))
        .merge(http::web::router())
        .route("/metrics", get(http::metrics::render))
        .fallback(unknown_path)
        .with_state(state)
        .layer(middleware::from_fn(http::control::path_params))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(error::fill_bodiless))
        .layer(middleware::from_fn(http::head::limit_headers))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(middleware::from_fn_with_state(limiter, http::ratelimit::limit))
        .merge(short)
        .layer(middleware::from_fn(http::metrics::track))
        .layer(cors)
        // gzip or brotli, as the client accepts, for the app's files and JSON alike.
        .layer(CompressionLayer::new())
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                // The path only: query strings may carry search terms, never tokens, but
                // there is no reason to log them.
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            })
            .on_failure(|class: ServerErrorsFailureClass, latency: Duration, _: &Span| {
                // A 5xx status was logged where it arose (error.rs), once: one line per error.
                if let ServerErrorsFailureClass::Error(e) = class {
                    tracing::warn!(error = %e, ?latency, "response failed");
                }
            }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

fn cors_layer(origins: &[String]) -> CorsLayer {
    let base = CorsLayer::new()
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            header::LOCATION,
            header::RETRY_AFTER,
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
        ]);
    if origins.iter().any(|o| o == "*") {
        base.allow_origin(AllowOrigin::any())
    } else {
        let list: Vec<HeaderValue> = origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        base.allow_origin(AllowOrigin::list(list))
    }
}

/// A bound, not yet serving, HTTP server: tests read its port before running it.
pub struct Server {
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
}

impl Server {
    pub async fn bind(
        addr: SocketAddr,
        state: AppState,
        limits: ConnectionLimits,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let mut router = router(state);
        if let Some(timeout) = limits.body_read_timeout() {
            router = router.layer(RequestBodyTimeoutLayer::new(timeout));
        }
        Ok(Self {
            listener,
            router,
            limits,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        connections::serve(self.listener, self.router, &self.limits, shutdown).await
    }
}
