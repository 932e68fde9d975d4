//! The Seller API (spec §6): a seller's own brands and products, commission rates, who may
//! promote a brand (grants and access requests), and the audit log of every change. Each
//! sub-resource is one file with its own routes; `tenancy` is how all of them stay within
//! the seller's brands; `amazon_connect` and `amazon_accounts` are a brand's own Amazon
//! Ads connection (#18). (`/sellers/token` is with the other token endpoints in
//! `http/auth.rs`, `/sellers/reports` with the publisher's reports in `http/reports.rs`.)

mod access_requests;
mod amazon_accounts;
mod amazon_connect;
mod audit;
mod brands;
mod grants;
mod invitations;
mod products;
mod statements;
mod tenancy;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(brands::router())
        .merge(products::router())
        .merge(grants::router())
        .merge(invitations::router())
        .merge(access_requests::router())
        .merge(audit::router())
        .merge(statements::router())
        .merge(amazon_connect::router())
        .merge(amazon_accounts::router())
}
