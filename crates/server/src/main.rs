use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use quiver::cli::{Cli, Command, admin, config_file, serve};
use quiver::store::Db;
use tracing_subscriber::EnvFilter;

// glibc's malloc was a seventh of the server's CPU under load (issue #16's profile:
// `_int_malloc`, `malloc_consolidate`, `unlink_chunk`), and its per-thread arenas fragment
// across the SQLite worker threads; mimalloc's thread-local free lists avoid both.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn init_tracing(json: bool) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // Colour only for a person at a terminal: escape codes in a file or a log collector
    // are noise, and https://no-color.org asks for none at all when NO_COLOR is set (non-empty).
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let ansi = std::io::stderr().is_terminal() && !no_color;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
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
        Command::Ingest(cfg) => quiver::cli::ingest::run(&cli.database_url, &cfg).await,
        Command::Bulk(args) => quiver::cli::bulk::run(args).await,
        Command::Admin(args) => {
            let db = open(&cli.database_url).await?;
            admin::run(&db, &cli.database_url, args).await
        }
    }
}

fn main() -> ExitCode {
    // The configuration file only fills variables the environment leaves unset, and must
    // be read before clap looks at the environment.
    let args: Vec<String> = std::env::args().collect();
    if let Some(path) = config_file::path_from(&args) {
        match config_file::read(&path) {
            Ok(vars) => {
                for (k, v) in vars {
                    if std::env::var_os(&k).is_none() {
                        // SAFETY: no other thread exists yet; the runtime starts below.
                        unsafe { std::env::set_var(k, v) };
                    }
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let cli = Cli::parse();
    let json = matches!(&cli.command, Command::Serve(c) if c.log_format == "json");
    init_tracing(json);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
