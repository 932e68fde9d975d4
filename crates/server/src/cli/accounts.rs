//! `quiver admin invite` and `quiver admin disable-account`.

use anyhow::Context;

use crate::store::{Db, now_ms};

/// Invites `email` to a brand and prints the link; e-mails it too when SMTP is given.
pub async fn invite(
    db: &Db,
    brand: &str,
    email: &str,
    commission: Option<f64>,
    message: &str,
    public_url: &str,
    smtp: Option<(&str, &str)>,
) -> anyhow::Result<()> {
    let brand = db
        .brand(brand.trim())
        .await?
        .with_context(|| format!("no brand '{brand}'"))?;
    let email = crate::joining::email_address("email", email)
        .map_err(|_| anyhow::anyhow!("'{email}' is not an e-mail address"))?;
    let bps = commission
        .map(|pct| crate::http::params::commission_bps("commission", pct))
        .transpose()
        .map_err(|_| {
            anyhow::anyhow!("the commission must be 0 to 100 percent, at most 2 decimals")
        })?;
    let public_url = public_url.trim_end_matches('/');
    let (row, link) =
        crate::invitations::create(db, None, public_url, &brand, &email, bps, message, None)
            .await?;
    if let Some((url, from)) = smtp {
        let mailer = crate::jobs::Mailer::from_url(url, from)?;
        let mail = crate::mail::templates::invitation(&row.brand_name, &row.message, &link);
        mailer
            .send_alternative(&row.email, &mail.subject, mail.text, mail.html)
            .await
            .context("sending the invitation")?;
        println!("invitation {} e-mailed to {}", row.id, row.email);
    }
    println!("invitation link (single use, 14 days): {link}");
    Ok(())
}

/// Disables an account: no more logins, and every session and API key ends.
pub async fn disable(db: &Db, email: &str) -> anyhow::Result<()> {
    let email = crate::login::normalise_username(email);
    let account = db
        .account_by_email(&email)
        .await?
        .with_context(|| format!("no account '{email}'"))?;
    let now = now_ms();
    db.disable_account(&account.id, now).await?;
    let sessions = db.revoke_account_tokens(&account.id, now).await?.len();
    let keys = db.revoke_all_api_keys(&account.id, now).await?.len();
    println!(
        "disabled {email}: {sessions} tokens and {keys} API keys revoked (servers stop accepting them within 5 seconds)"
    );
    Ok(())
}
