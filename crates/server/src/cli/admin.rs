//! `quiver admin`: operator commands.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use quiver_domain::{AccountKind, Bps, ProgramMode, Region};

use crate::accounts::create_account;
use crate::cli::import;
use crate::objects::grant;
use crate::store::catalog::NewBrand;
use crate::store::commission::beginning;
use crate::store::sellers::Change;
use crate::store::{Db, copy, now_ms};

#[derive(Debug, Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account.
    CreateAccount {
        #[arg(long)]
        email: String,
        /// At least 8 characters.
        #[arg(long, env = "QUIVER_NEW_PASSWORD", hide_env_values = true)]
        password: String,
        /// publisher, seller or admin.
        #[arg(long, default_value = "publisher")]
        kind: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Create a brand owned by a seller account.
    CreateBrand {
        /// Brand id (a short slug, e.g. northwind).
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// E-mail of the owning seller account.
        #[arg(long)]
        owner: String,
        /// open or approval.
        #[arg(long, default_value = "open")]
        mode: String,
        /// Default commission in percent, e.g. 12.5.
        #[arg(long, default_value = "10")]
        commission: String,
        #[arg(long, default_value = "")]
        logo: String,
    },
    /// Grant a publisher access to a brand.
    Grant {
        #[arg(long)]
        brand: String,
        /// The publisher's e-mail or public affiliate id.
        #[arg(long)]
        creator: String,
    },
    /// Revoke a publisher's access to a brand.
    Revoke {
        #[arg(long)]
        brand: String,
        #[arg(long)]
        creator: String,
    },
    /// Record a brand's Amazon Ads profile and advertiser id for one region.
    SetAmazon {
        #[arg(long)]
        brand: String,
        /// NA, EU or FE.
        #[arg(long)]
        region: String,
        #[arg(long)]
        profile_id: String,
        #[arg(long)]
        advertiser_id: String,
    },
    /// Import products from CSV (with headers) or JSON (an array of objects). Columns:
    /// brand_id, asin, marketplace, title, price, available, status_reason, image_url,
    /// rating, ratings_total, category, sub_category (;-separated), is_variant_of,
    /// collection_name, commission.
    ImportCatalog { file: PathBuf },
    /// Lift the lock on an account after too many failed logins (more than 10 in 15
    /// minutes): clears that username's failed logins, from every address.
    Unlock {
        /// The account's e-mail address (any case).
        email: String,
    },
    /// Invite a creator to a brand: prints the link (single use, 14 days), and e-mails it
    /// when QUIVER_SMTP_URL is set.
    Invite {
        #[arg(long)]
        brand: String,
        #[arg(long)]
        email: String,
        /// The creator's commission in percent, e.g. 15.
        #[arg(long)]
        commission: Option<f64>,
        #[arg(long, default_value = "")]
        message: String,
        /// Base of the link, as `quiver serve` has it.
        #[arg(
            long,
            env = "QUIVER_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        public_url: String,
        #[arg(long, env = "QUIVER_SMTP_URL")]
        smtp_url: Option<String>,
        #[arg(
            long,
            env = "QUIVER_SMTP_FROM",
            default_value = "Quiver <quiver@localhost>"
        )]
        smtp_from: String,
    },
    /// Disable an account: it can no longer log in, and its sessions and API keys end.
    DisableAccount {
        /// The account's e-mail address (any case).
        email: String,
    },
    /// Re-encrypt every stored secret (brands' Amazon refresh tokens, queued account e-mails,
    /// webhook signing secrets) under a new secret
    /// key, in one transaction. With the key file (SQLite) the file is replaced; with
    /// QUIVER_SECRET_KEY the new key goes to --new-key-file. Keys are never printed.
    RotateSecretKey {
        #[arg(long, env = "QUIVER_SECRET_KEY", hide_env_values = true)]
        secret_key: Option<String>,
        /// Where to write the new key (owner-only); required with QUIVER_SECRET_KEY.
        #[arg(long)]
        new_key_file: Option<PathBuf>,
    },
    /// Copy this (SQLite) database into an empty PostgreSQL database, migrating it first,
    /// then compare every table's row count and checksum.
    CopyTo {
        /// The target, e.g. postgres://quiver@db.internal/quiver.
        #[arg(long)]
        to: String,
    },
}

async fn publisher_id(db: &Db, who: &str) -> anyhow::Result<String> {
    let account = match db.account_by_email(&who.trim().to_lowercase()).await? {
        Some(a) => Some(a),
        None => db.account_by_public_id(who.trim()).await?,
    };
    let account = account.with_context(|| format!("no account '{who}'"))?;
    anyhow::ensure!(
        account.kind == AccountKind::Publisher,
        "'{who}' is not a publisher account"
    );
    Ok(account.id)
}

pub async fn run(db: &Db, database_url: &str, args: AdminArgs) -> anyhow::Result<()> {
    match args.command {
        AdminCommand::RotateSecretKey {
            secret_key,
            new_key_file,
        } => {
            let done = super::secrets::rotate(
                db,
                database_url,
                secret_key.as_deref(),
                new_key_file.as_deref(),
            )
            .await?;
            println!("{done}");
        }
        AdminCommand::Invite {
            brand,
            email,
            commission,
            message,
            public_url,
            smtp_url,
            smtp_from,
        } => {
            let smtp = smtp_url.as_deref().filter(|u| !u.trim().is_empty());
            crate::cli::accounts::invite(
                db,
                &brand,
                &email,
                commission,
                &message,
                &public_url,
                smtp.map(|u| (u, smtp_from.as_str())),
            )
            .await?;
        }
        AdminCommand::DisableAccount { email } => {
            crate::cli::accounts::disable(db, &email).await?;
        }
        AdminCommand::CreateAccount {
            email,
            password,
            kind,
            name,
        } => {
            let kind =
                AccountKind::parse(&kind).with_context(|| format!("unknown kind '{kind}'"))?;
            let display = name.unwrap_or_else(|| email.clone());
            let id = create_account(db, &email, &password, kind, &display, None).await?;
            let account = db.account_by_id(&id).await?.context("account vanished")?;
            println!(
                "created {} account {} (public id {})",
                kind.as_str(),
                account.email,
                account.public_id
            );
        }
        AdminCommand::CreateBrand {
            id,
            name,
            owner,
            mode,
            commission,
            logo,
        } => {
            let mode = ProgramMode::parse(&mode)
                .with_context(|| format!("mode must be open or approval, not '{mode}'"))?;
            let rate = Bps::parse_percent(&commission)?;
            let owner = db
                .account_by_email(&owner.trim().to_lowercase())
                .await?
                .with_context(|| format!("no account '{owner}'"))?;
            anyhow::ensure!(
                owner.kind == AccountKind::Seller,
                "'{}' is not a seller account",
                owner.email
            );
            let id = id.trim();
            anyhow::ensure!(
                !id.is_empty()
                    && id.len() <= 64
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "brand id must be 1-64 letters, digits, '-' or '_'"
            );
            db.insert_brand(&NewBrand {
                id,
                owner_account_id: &owner.id,
                name: name.trim(),
                company_name: name.trim(),
                logo_url: &logo,
                program_mode: mode,
                default_commission_bps: rate.0,
                created_at: now_ms(),
            })
            .await
            .with_context(|| format!("creating brand '{id}'"))?;
            db.record_commission(id, None, Some(rate.0), beginning())
                .await?;
            println!(
                "created brand {id} ({}, {} default commission)",
                mode.as_str(),
                rate.percent_label()
            );
        }
        AdminCommand::Grant { brand, creator } => {
            db.brand(&brand)
                .await?
                .with_context(|| format!("no brand '{brand}'"))?;
            let account = publisher_id(db, &creator).await?;
            db.operator_set_access(&brand, &account, true, now_ms(), &grant::data)
                .await?;
            println!("granted {creator} access to {brand}");
        }
        AdminCommand::Revoke { brand, creator } => {
            let account = publisher_id(db, &creator).await?;
            let revoked = db
                .operator_set_access(&brand, &account, false, now_ms(), &grant::data)
                .await?;
            println!(
                "{}",
                if matches!(revoked, Change::Changed(_)) {
                    "revoked"
                } else {
                    "no active grant to revoke"
                }
            );
        }
        AdminCommand::SetAmazon {
            brand,
            region,
            profile_id,
            advertiser_id,
        } => {
            let region = Region::parse(&region)
                .with_context(|| format!("region must be NA, EU or FE, not '{region}'"))?;
            db.brand(&brand)
                .await?
                .with_context(|| format!("no brand '{brand}'"))?;
            anyhow::ensure!(
                !profile_id.trim().is_empty() && !advertiser_id.trim().is_empty(),
                "profile and advertiser ids must not be empty"
            );
            db.set_brand_amazon_account(&brand, region, profile_id.trim(), advertiser_id.trim())
                .await?;
            println!(
                "brand {brand} uses profile {profile_id} / advertiser {advertiser_id} in {region}"
            );
        }
        AdminCommand::Unlock { email } => {
            let username = crate::login::normalise_username(&email);
            let cleared = db.clear_all_login_failures(&username).await?;
            let known = db.account_by_email(&username).await?.is_some();
            match (cleared, known) {
                (0, false) => anyhow::bail!("no account '{email}' and no failed logins for it"),
                (0, true) => println!("{username} was not locked"),
                (n, _) => println!("unlocked {username} (cleared {n} failed logins)"),
            }
        }
        AdminCommand::CopyTo { to } => {
            let target = Db::connect(&to)
                .await
                .with_context(|| format!("connecting to {to}"))?;
            target.migrate().await?;
            let source = copy::sqlite_to_postgres(db, &target, |table, n| {
                eprint!("\r{table}: {n} rows   ");
            })
            .await?;
            eprintln!();
            let copied = copy::sums(&target).await?;
            let mut mismatches = 0;
            for (table, sum) in &source {
                let same = copied.get(table) == Some(sum);
                mismatches += usize::from(!same);
                println!(
                    "{table:<28} {:>10} rows  {}",
                    sum.rows,
                    if same { "ok" } else { "MISMATCH" }
                );
            }
            anyhow::ensure!(mismatches == 0, "{mismatches} tables differ after the copy");
            println!("copied {} tables; counts and checksums match", source.len());
        }
        AdminCommand::ImportCatalog { file } => {
            let records = import::read_records(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let n = import::import(db, &records).await?;
            println!("imported {n} products");
        }
    }
    Ok(())
}
