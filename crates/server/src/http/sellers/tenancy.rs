//! Every seller endpoint is scoped to the calling seller's own brands: another seller's
//! brand, product, grant or request is answered exactly like one that does not exist (404),
//! so ids cannot be probed across tenants.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::catalog::BrandRow;
use crate::store::sellers::Actor;

/// The calling seller, as the audit log records who made a change.
pub fn actor(who: &Principal) -> Actor<'_> {
    Actor {
        account_id: &who.account_id,
        public_id: &who.public_id,
    }
}

/// The seller's brand or 404.
pub async fn own_brand(state: &AppState, who: &Principal, brand_id: &str) -> ApiResult<BrandRow> {
    state
        .db
        .seller_brand(&who.account_id, brand_id)
        .await?
        .ok_or_else(|| ApiError::BrandNotFound {
            brand: brand_id.to_owned(),
        })
}
