use std::process::ExitCode;

use clap::Parser;
use quiver::cli::{Cli, Command, admin, serve};
use quiver::store::Db;
use tracing_subscriber::EnvFilter;

fn init_tracing(json: bool) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn open(url: &str) -> anyhow::Result<Db> {
    let db = Db::connect(url).await?;
    db.migrate().await?;
    Ok(db)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(cfg) => serve::run(&cli.database_url, cfg).await,
        Command::Migrate => {
            open(&cli.database_url).await?;
            println!("migrations applied to {}", cli.database_url);
            Ok(())
        }
        Command::Demo => {
            let db = open(&cli.database_url).await?;
            if quiver::demo::seed(&db).await? {
                println!("demo data seeded");
            } else {
                println!("the database already has accounts; nothing seeded");
            }
            Ok(())
        }
        Command::Admin(args) => {
            let db = open(&cli.database_url).await?;
            admin::run(&db, args).await
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = matches!(&cli.command, Command::Serve(c) if c.log_format == "json");
    init_tracing(json);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
