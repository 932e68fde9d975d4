//! `quiver serve`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use quiver_domain::CursorKey;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::amazon::Amazon;
use crate::app::Server;
use crate::config::{AmazonMode, ServeConfig};
use crate::demo;
use crate::jobs::{self, StopReport, Supervisor};
use crate::state::{AppState, Parts, Settings};
use crate::store::Db;

/// The name of the database secret page cursors are signed with.
const CURSOR_SECRET: &str = "cursor";

/// A started Quiver: what `serve` runs, and what the integration tests drive.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    pub amazon: Arc<Amazon>,
    pub seeded: bool,
    /// This process's identity in bulk leases and `processed_by`.
    pub worker_id: String,
    jobs: Supervisor,
    stop_serving: CancellationToken,
    server: JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The background jobs running, in the order they started.
    pub fn job_names(&self) -> Vec<&'static str> {
        self.jobs.names()
    }

    /// Stops accepting, finishes in-flight requests, then stops every background job (see
    /// [`Supervisor::stop`]) and closes the database.
    pub async fn stop(self) -> anyhow::Result<StopReport> {
        self.stop_serving.cancel();
        let served = self.server.await;
        // Enough for bulk items in flight (each within the link deadline) and one tag
        // refresh; a job that overruns is aborted and reported.
        let grace = self.state.settings.link_deadline + Duration::from_secs(12);
        let report = self.jobs.stop(grace).await;
        self.state.db.close().await;
        served??;
        Ok(report)
    }
}

/// Opens the database, starts Amazon, seeds the demo when enabled, and starts serving.
pub async fn start(database_url: &str, cfg: &ServeConfig) -> anyhow::Result<Running> {
    let mode = cfg.amazon_mode(database_url).map_err(anyhow::Error::msg)?;
    let demo_enabled = cfg.demo_enabled(database_url).map_err(anyhow::Error::msg)?;
    let demo_links = cfg
        .demo_links_enabled(database_url)
        .map_err(anyhow::Error::msg)?;

    let db = Db::connect(database_url)
        .await
        .with_context(|| format!("opening the database {database_url}"))?;
    db.migrate().await.context("running migrations")?;
    let cursor_key = CursorKey::derive(
        &db.shared_secret(CURSOR_SECRET)
            .await
            .context("reading the cursor-signing secret")?,
    );

    // Checked before anything starts: with sealed values and no (or the wrong) key the
    // server must not run. The key seals and opens brands' Amazon authorisations (#18).
    let opened =
        crate::cli::secrets::open_at_start(&db, database_url, cfg.secret_key.as_deref()).await;
    let secret_key = match opened {
        Ok(key) => key,
        Err(e) => {
            // Refused: release the database (and SQLite's writer task) before returning.
            db.close().await;
            return Err(e);
        }
    };

    let amazon = Arc::new(Amazon::start(&mode, cfg).await?);
    amazon.tags.load(&db, amazon.tag_config.max_stale).await;
    if let Some(sim) = &amazon.sim {
        info!(url = %sim.base_url(), "Amazon Attribution simulator running in-process");
    }
    let join_settings =
        crate::joining::JoinSettings::from_config(cfg, demo_enabled).map_err(anyhow::Error::msg)?;
    let smtp = cfg
        .smtp_url
        .as_deref()
        .is_some_and(|u| !u.trim().is_empty());
    let outbox = crate::outbox::Outbox::new(smtp, secret_key.clone());
    let seeded = demo_enabled && demo::seed(&db).await.context("seeding demo data")?;

    crate::metrics::handle();
    amazon
        .client
        .set_observer(Arc::new(crate::metrics::record_amazon_call));
    let state = AppState::new(Parts {
        db,
        amazon: amazon.clone(),
        settings: Settings {
            connect_state_ttl: Duration::from_secs(10 * 60),
            token_ttl: cfg.token_ttl(),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            link_deadline: cfg.link_deadline(),
            publisher_id: cfg.amazon_publisher_id.clone(),
            rate_limit: cfg.rate_limit,
            cors_origins: cfg.cors_origins(),
            quotas: cfg.quotas,
        },
        cursor_key,
        joining: crate::joining::Joining::new(join_settings, outbox),
        clicks: crate::clicks::Clicks::new(cfg.clicks.settings().map_err(anyhow::Error::msg)?),
        secret_key: secret_key.clone(),
        webhooks: crate::webhooks::Webhooks::new(
            cfg.webhooks.settings().map_err(anyhow::Error::msg)?,
            secret_key.map(Arc::new),
        )?,
    });
    // Every link has a short code and every code is in memory before the first request.
    jobs::short_codes::load_all(&state)
        .await
        .context("loading the short codes")?;
    let worker_id = jobs::worker_id();
    let jobs =
        jobs::start(&state, cfg, &worker_id, demo_links).context("starting the background jobs")?;
    let server = Server::bind(cfg.listen, state.clone(), cfg.connections.clone())
        .await
        .with_context(|| format!("listening on {}", cfg.listen))?;
    let addr = server.local_addr()?;
    state.joining.set_bound(addr);
    info!(%addr, amazon = %mode_label(&mode), "Quiver is listening");
    let stop_serving = CancellationToken::new();
    let server = tokio::spawn(server.run(stop_serving.clone().cancelled_owned()));
    Ok(Running {
        addr,
        state,
        amazon,
        seeded,
        worker_id,
        jobs,
        stop_serving,
        server,
    })
}

pub async fn run(database_url: &str, cfg: ServeConfig) -> anyhow::Result<()> {
    let running = start(database_url, &cfg).await?;
    if cfg.demo_enabled(database_url).unwrap_or(false) {
        print_demo_banner(running.addr, running.seeded);
    }
    shutdown_signal().await;
    let report = running.stop().await?;
    if report.all_finished() {
        info!("every background job stopped");
    }
    Ok(())
}

fn mode_label(mode: &AmazonMode) -> String {
    match mode {
        AmazonMode::Sim => "simulator (in-process)".into(),
        AmazonMode::BaseUrl(u) => u.to_string(),
        AmazonMode::Amazon => "Amazon".into(),
    }
}

fn print_demo_banner(addr: SocketAddr, seeded: bool) {
    let base = format!("http://{addr}");
    let fresh = if seeded {
        " (demo data just seeded)"
    } else {
        ""
    };
    println!(
        "\nQuiver is running at {base}{fresh}\n\n\
         Demo accounts (password '{pw}'):\n  \
         creator  {c}\n  creator2 {c2}\n  seller   {s}\n  seller2  {s2} (connects its own Amazon Ads account: Amazon in the app)\n\n\
         Try it:\n  \
         TOKEN=$(curl -s -X POST {base}/token -d 'username={c}&password={pw}' | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')\n  \
         curl -s -X POST {base}/generate_attribution_link -H \"Authorization: Bearer $TOKEN\" \\\n       \
         -H 'Content-Type: application/json' -d '{{\"asin\": \"{asin}\", \"link_name\": \"my-first-link\", \"marketplace\": \"amazon.de\"}}'\n",
        pw = demo::PASSWORD,
        c = demo::CREATOR,
        c2 = demo::CREATOR2,
        s = demo::SELLER,
        s2 = demo::SELLER2,
        asin = demo::EXAMPLE_ASIN,
    );
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    info!("shutting down");
}
