//! `quiver serve`.

use anyhow::Context;
use tracing::info;

use crate::amazon::{Amazon, persist_tags, tag_source};
use crate::app::{AppState, Server, Settings};
use crate::config::{AmazonMode, ServeConfig};
use crate::demo;
use crate::store::Db;

pub async fn run(database_url: &str, cfg: ServeConfig) -> anyhow::Result<()> {
    let mode = cfg.amazon_mode(database_url).map_err(anyhow::Error::msg)?;
    let demo_enabled = cfg.demo_enabled(database_url).map_err(anyhow::Error::msg)?;

    let db = Db::connect(database_url)
        .await
        .with_context(|| format!("opening the database {database_url}"))?;
    db.migrate().await.context("running migrations")?;

    let amazon = Amazon::start(&mode, &cfg).await?;
    amazon.warm_and_maintain(&db).await;
    if let Some(sim) = &amazon.sim {
        info!(url = %sim.base_url(), "Amazon Attribution simulator running in-process");
    }
    let seeded = demo_enabled && demo::seed(&db).await.context("seeding demo data")?;

    let state = AppState::new(
        db.clone(),
        tag_source(&amazon),
        Settings {
            token_ttl: cfg.token_ttl(),
            refresh_ttl: std::time::Duration::from_secs(30 * 24 * 3600),
            link_deadline: cfg.link_deadline(),
            publisher_id: cfg.amazon_publisher_id.clone(),
        },
    );
    if demo_enabled {
        tokio::spawn(demo::seed_links(state.clone()));
    }
    let server = Server::bind(cfg.listen, state)
        .await
        .with_context(|| format!("listening on {}", cfg.listen))?;
    let addr = server.local_addr()?;
    info!(%addr, amazon = ?mode_label(&mode), "Quiver is listening");
    if demo_enabled {
        print_demo_banner(addr, seeded);
    }
    server.run(shutdown_signal()).await?;
    persist_tags(&amazon.tags, &db).await;
    db.close().await;
    Ok(())
}

fn mode_label(mode: &AmazonMode) -> String {
    match mode {
        AmazonMode::Sim => "simulator (in-process)".into(),
        AmazonMode::BaseUrl(u) => u.to_string(),
        AmazonMode::Amazon => "Amazon".into(),
    }
}

fn print_demo_banner(addr: std::net::SocketAddr, seeded: bool) {
    let base = format!("http://{addr}");
    let fresh = if seeded { " (just seeded)" } else { "" };
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
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    info!("shutting down");
}
