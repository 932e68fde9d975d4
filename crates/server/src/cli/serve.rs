//! `quiver serve`.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::info;

use crate::amazon::{Amazon, persist_tags, tag_source};
use crate::app::Server;
use crate::config::{AmazonMode, ServeConfig};
use crate::demo;
use crate::state::{AppState, Settings};
use crate::store::Db;

/// A started Quiver: what `serve` runs, and what the integration tests drive.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    pub amazon: Arc<Amazon>,
    pub seeded: bool,
    /// The bulk-job worker (and mailer) of this process.
    pub workers: Option<crate::jobs::Workers>,
    /// Writes API keys' last use in batches.
    key_use: Option<crate::api_keys::Flusher>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, finishes in-flight requests, and saves the tag cache.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await??;
        if let Some(workers) = self.workers.take() {
            workers.stop().await;
        }
        if let Some(flusher) = self.key_use.take() {
            flusher.stop().await;
        }
        persist_tags(&self.amazon.tags, &self.state.db).await;
        self.state.db.close().await;
        Ok(())
    }
}

/// Opens the database, starts Amazon, seeds the demo when enabled, and starts serving.
pub async fn start(database_url: &str, cfg: &ServeConfig) -> anyhow::Result<Running> {
    let mode = cfg.amazon_mode(database_url).map_err(anyhow::Error::msg)?;
    let demo_enabled = cfg.demo_enabled(database_url).map_err(anyhow::Error::msg)?;

    let db = Db::connect(database_url)
        .await
        .with_context(|| format!("opening the database {database_url}"))?;
    db.migrate().await.context("running migrations")?;

    let amazon = Arc::new(Amazon::start(&mode, cfg).await?);
    amazon.warm_and_maintain(&db).await;
    if let Some(sim) = &amazon.sim {
        info!(url = %sim.base_url(), "Amazon Attribution simulator running in-process");
    }
    let join_settings =
        crate::joining::JoinSettings::from_config(cfg, demo_enabled).map_err(anyhow::Error::msg)?;
    let account_mailer = match cfg
        .smtp_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        Some(url) => Some(Arc::new(
            crate::jobs::Mailer::from_url(url, &cfg.bulk.smtp_from).context("QUIVER_SMTP_URL")?,
        )),
        None => None,
    };
    let outbox = crate::mail::Outbox::new(
        account_mailer,
        cfg.bulk.smtp_max_attempts,
        std::time::Duration::from_millis(cfg.bulk.bulk_retry_base_ms),
    );
    let seeded = demo_enabled && demo::seed(&db).await.context("seeding demo data")?;

    crate::metrics::handle();
    amazon
        .client
        .set_observer(std::sync::Arc::new(crate::metrics::record_amazon_call));
    let state = AppState::new(
        db,
        tag_source(&amazon),
        Some(amazon.clone()),
        Settings {
            token_ttl: cfg.token_ttl(),
            refresh_ttl: std::time::Duration::from_secs(30 * 24 * 3600),
            link_deadline: cfg.link_deadline(),
            publisher_id: cfg.amazon_publisher_id.clone(),
            rate_limit: cfg.rate_limit,
            cors_origins: cfg.cors_origins(),
            quotas: cfg.quotas,
        },
        crate::joining::Joining::new(join_settings, outbox),
    );
    if demo_enabled && !cfg.no_demo_links {
        tokio::spawn(demo::seed_links(state.clone()));
    }
    let workers = crate::jobs::start(state.clone(), &cfg.bulk, cfg.smtp_url.as_deref())
        .context("starting the bulk-job worker")?;
    if cfg.ingest_interval_secs > 0 {
        crate::ingest::spawn_schedule(
            state.db.clone(),
            amazon.client.clone(),
            std::time::Duration::from_secs(cfg.ingest_interval_secs),
        );
    }
    let server = Server::bind(cfg.listen, state.clone(), cfg.connections.clone())
        .await
        .with_context(|| format!("listening on {}", cfg.listen))?;
    let addr = server.local_addr()?;
    state.joining.set_bound(addr);
    let key_use =
        crate::api_keys::Flusher::start(state.clone(), std::time::Duration::from_secs(10));
    info!(%addr, amazon = %mode_label(&mode), "Quiver is listening");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    Ok(Running {
        addr,
        state,
        amazon,
        seeded,
        workers: Some(workers),
        key_use: Some(key_use),
        stop: Some(stop),
        task,
    })
}

pub async fn run(database_url: &str, cfg: ServeConfig) -> anyhow::Result<()> {
    let running = start(database_url, &cfg).await?;
    if cfg.demo_enabled(database_url).unwrap_or(false) {
        print_demo_banner(running.addr, running.seeded);
    }
    shutdown_signal().await;
    running.stop().await
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
         creator  {c}\n  creator2 {c2}\n  seller   {s}\n\n\
         Try it:\n  \
         TOKEN=$(curl -s -X POST {base}/token -d 'username={c}&password={pw}' | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')\n  \
         curl -s -X POST {base}/generate_attribution_link -H \"Authorization: Bearer $TOKEN\" \\\n       \
         -H 'Content-Type: application/json' -d '{{\"asin\": \"{asin}\", \"link_name\": \"my-first-link\", \"marketplace\": \"amazon.de\"}}'\n",
        pw = demo::PASSWORD,
        c = demo::CREATOR,
        c2 = demo::CREATOR2,
        s = demo::SELLER,
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
