//! A brand's invitations: creating one (from the Seller API or the CLI), and accepting it,
//! which grants the creator access to the brand with the invitation's commission.

use quiver_domain::AccountKind;
use uuid::Uuid;

use crate::error::ApiError;
use crate::joining::{INVITATION_TTL, link_token};
use crate::mail::templates;
use crate::outbox::Outbox;
use crate::state::AppState;
use crate::store::catalog::BrandRow;
use crate::store::invitations::{InvitationRow, InvitationStatus, NewInvitation};
use crate::store::now_ms;
use crate::store::sellers::{Actor, Change};
use crate::store::{Db, StoreResult};

/// Stores an invitation to `brand` and returns it with the link its e-mail carries. With
/// an `outbox`, its e-mail is queued in the same transaction (the CLI sends its own).
#[allow(clippy::too_many_arguments)]
pub async fn create(
    db: &Db,
    outbox: Option<&Outbox>,
    public_url: &str,
    brand: &BrandRow,
    email: &str,
    commission_bps: Option<u32>,
    message: &str,
    invited_by: Option<&str>,
) -> StoreResult<(InvitationRow, String)> {
    let (token, hash) = link_token();
    let now = now_ms();
    let id = Uuid::now_v7().to_string();
    let link = format!("{public_url}/app/#/invitation?token={token}");
    let out = outbox.map(|o| o.prepare(email, templates::invitation(&brand.name, message, &link)));
    let row = out.as_ref().and_then(|o| o.row());
    db.insert_invitation(
        &NewInvitation {
            id: &id,
            brand_id: &brand.id,
            email,
            token_hash: &hash,
            commission_bps,
            message,
            invited_by,
            created_at: now,
            expires_at: now + INVITATION_TTL.as_millis() as i64,
        },
        row,
    )
    .await?;
    if let (Some(outbox), Some(out)) = (outbox, out) {
        outbox.queued(out);
    }
    let row = db
        .invitation(&brand.id, &id)
        .await?
        .ok_or(crate::store::StoreError::Conflict)?;
    Ok((row, link))
}

/// The invitation a token opens, if it can still be accepted.
pub async fn open(state: &AppState, token: &str) -> Result<InvitationRow, ApiError> {
    let hash = crate::auth::token_hash(token.trim());
    let row = state
        .db
        .invitation_by_token(&hash)
        .await?
        .ok_or(ApiError::BadLink("This invitation link is not valid"))?;
    usable(&row, now_ms())?;
    Ok(row)
}

fn usable(row: &InvitationRow, now: i64) -> Result<(), ApiError> {
    match row.status(now) {
        InvitationStatus::Accepted => Err(ApiError::InvitationUsed(
            "This invitation was already accepted",
        )),
        InvitationStatus::Revoked => Err(ApiError::InvitationGone(
            "This invitation was withdrawn by the brand",
        )),
        InvitationStatus::Expired => Err(ApiError::InvitationGone(
            "This invitation has expired: ask the brand for a new one",
        )),
        InvitationStatus::Pending => Ok(()),
    }
}

/// Accepts for `account_id`: marks the invitation used, grants access (audited as the
/// inviting seller) and records the creator's commission, effective tomorrow like every
/// rate change.
pub async fn accept(
    state: &AppState,
    row: &InvitationRow,
    account_id: &str,
) -> Result<(), ApiError> {
    let now = now_ms();
    if !state.db.accept_invitation(&row.id, account_id, now).await? {
        // Another use, a revocation or the expiry came first: say which.
        let current = state
            .db
            .invitation(&row.brand_id, &row.id)
            .await?
            .ok_or(ApiError::BadLink("This invitation link is not valid"))?;
        usable(&current, now)?;
        return Err(ApiError::InvitationUsed(
            "This invitation was already accepted",
        ));
    }
    let brand = state
        .db
        .brand(&row.brand_id)
        .await?
        .ok_or_else(|| ApiError::UnknownBrand {
            brand: row.brand_id.clone(),
        })?;
    let owner = state
        .db
        .account_by_id(&brand.owner_account_id)
        .await?
        .filter(|a| a.kind == AccountKind::Seller)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("brand {} has no seller", brand.id)))?;
    let actor = Actor {
        account_id: &owner.id,
        public_id: &owner.public_id,
    };
    if let Change::NotFound = state
        .db
        .grant_access(actor, &brand.id, account_id, now)
        .await?
    {
        return Err(ApiError::UnknownBrand { brand: brand.id });
    }
    if let Some(bps) = row.commission_bps.and_then(|b| u32::try_from(b).ok()) {
        let day = quiver_domain::format_iso(quiver_domain::effective_from(crate::clock::today()));
        state
            .db
            .record_creator_commission(&brand.id, account_id, bps, &day, now)
            .await?;
    }
    Ok(())
}
