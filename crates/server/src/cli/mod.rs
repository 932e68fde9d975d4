//! The `quiver` command line.

pub mod accounts;
pub mod admin;
pub mod bulk;
pub mod config_file;
pub mod import;
pub mod ingest;
pub mod secrets;
pub mod serve;

use clap::{Parser, Subcommand};

use crate::config::{DEFAULT_DATABASE_URL, ServeConfig};

/// Quiver: an open, self-hostable affiliate attribution-link platform with the Archer
/// Affiliates API.
#[derive(Debug, Parser)]
#[command(name = "quiver", version, about, long_about = None)]
pub struct Cli {
    /// Database: sqlite://PATH (created if missing) or postgres://...
    #[arg(long, env = "QUIVER_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Optional TOML file of settings: keys are the QUIVER_* names without the prefix, in
    /// lower case (listen, database_url, amazon, ...). The environment and flags win.
    #[arg(long, env = "QUIVER_CONFIG", global = true)]
    pub config: Option<std::path::PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (migrates, seeds the demo data on first start when enabled).
    Serve(ServeConfig),
    /// Run pending database migrations and exit.
    Migrate,
    /// Seed the demo accounts, brands and catalog into an empty database.
    Demo,
    /// Pull Amazon Attribution reports now (last 28 days; 90 on an advertiser's first run).
    Ingest(ServeConfig),
    /// Manage accounts, brands, grants, Amazon ids and the catalog.
    Admin(admin::AdminArgs),
    /// Submit a CSV of links (asin, link_name, marketplace) to a running server as one bulk
    /// job, show its progress, and write the result CSV. Password from QUIVER_PASSWORD.
    Bulk(bulk::BulkArgs),
}
