//! A simulator of Amazon Attribution (plus Login with Amazon and `/v2/profiles`) for
//! Quiver's tests, benchmarks and demo.
//!
//! It answers with the reference spec's shapes, derives report figures deterministically
//! from recorded clicks, and injects faults on demand. Its own controls live under
//! `/_sim/*`, which is never authenticated nor faulted.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod admin;
pub mod attribution_url;
pub mod auth;
pub mod catalog;
pub mod config;
pub mod error;
pub mod faults;
mod mix;
pub mod oauth;
pub mod profiles;
pub mod report;
pub mod state;
pub mod tags;
pub mod traffic;
pub mod truth;
pub mod users;

use std::net::SocketAddr;

use axum::Router;
use axum::routing::{get, post};
use quiver_domain::{Asin, Marketplace};

pub use config::{Faults, FaultsPatch, SimConfig};
pub use state::SimState;
pub use time::Date;

use crate::error::ApiError;

/// Every route: the faulted Amazon API, and the unfaulted `/_sim` controls.
pub fn router(state: SimState) -> Router {
    let amazon = Router::new()
        .route("/auth/o2/token", post(auth::token))
        .route("/ap/oa", get(oauth::authorize).post(oauth::decide))
        .route("/v2/profiles", get(profiles::list))
        .route("/attribution/advertisers", get(tags::advertisers))
        .route("/attribution/publishers", get(tags::list_publishers))
        .route(
            "/attribution/tags/nonMacroTemplateTag",
            get(tags::non_macro_template_tags),
        )
        .route("/attribution/tags/macroTag", get(tags::macro_tags))
        .route("/attribution/report", post(report::report))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::inject,
        ));
    Router::new()
        .merge(amazon)
        .nest("/_sim", admin::router())
        .fallback(|| async { ApiError::NotFound("Resource not found".to_owned()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state)
}

/// A running simulator. Clones share it; dropping handles does not stop it.
#[derive(Clone)]
pub struct SimHandle {
    state: SimState,
    addr: SocketAddr,
}

/// Binds `addr` (port 0 picks a free port) and serves in the background.
pub async fn spawn(config: SimConfig, addr: SocketAddr) -> std::io::Result<SimHandle> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let state = SimState::new(config);
    let app = router(state.clone());
    let stopping = state.clone();
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stopping.shutting_down().await })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "amazon-sim server stopped");
        }
    });
    tracing::info!(%addr, "amazon-sim listening");
    Ok(SimHandle { state, addr })
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &SimState {
        &self.state
    }

    pub fn set_faults(&self, faults: Faults) {
        self.state.set_faults(faults);
    }

    pub fn faults(&self) -> Faults {
        self.state.faults()
    }

    pub fn set_today(&self, today: Date) {
        self.state.set_today(today);
    }

    pub fn today(&self) -> Date {
        self.state.today()
    }

    /// Amazon API requests received (not `/_sim`), faulted ones included.
    pub fn request_count(&self) -> u64 {
        self.state.request_count()
    }

    /// Records shopper clicks on an attribution URL, as `POST /_sim/visits` does;
    /// `None` means today.
    pub fn record_visit(
        &self,
        url: &str,
        date: Option<Date>,
        clicks: u64,
    ) -> Result<admin::VisitRecorded, admin::VisitError> {
        admin::record_visit(&self.state, url, date, clicks)
    }

    /// Adds or replaces an advertiser's products, as `POST /_sim/catalog` does; returns how
    /// many products the advertiser now has.
    pub fn register_products(
        &self,
        advertiser_id: &str,
        products: impl IntoIterator<Item = (Marketplace, Asin, catalog::Product)>,
    ) -> usize {
        self.state.catalog_mut().register(advertiser_id, products)
    }

    /// The per-ad-group daily figures, as `GET /_sim/truth` serves them.
    pub fn truth(&self, advertiser_id: &str, start: Date, end: Date) -> truth::TruthResponse {
        truth::truth(&self.state, advertiser_id, start, end)
    }

    /// Stops accepting connections, lets requests in flight finish and releases hanging
    /// ("timed out") requests at once.
    pub fn shutdown(&self) {
        self.state.shutdown();
    }
}
