//! The optional TOML configuration file (`--config PATH` or `QUIVER_CONFIG`).
//!
//! Each key is the name of a `QUIVER_*` variable without the prefix, in lower case
//! (`listen`, `database_url`, `amazon`, `rate_limit`, ...). The environment wins over the
//! file, and flags win over both, so one file can serve several processes that differ
//! only in, say, `QUIVER_LISTEN`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use super::Cli;

/// Every key the file may set: each `QUIVER_*` variable of `quiver serve` and of the global
/// flags, read from the flag definitions themselves so the two cannot drift apart.
/// `QUIVER_CONFIG` names the file, so it is not one of them.
pub fn keys() -> BTreeSet<String> {
    let cli = Cli::command();
    let serve = cli.find_subcommand("serve");
    cli.get_arguments()
        .chain(serve.into_iter().flat_map(|c| c.get_arguments()))
        .filter_map(|arg| arg.get_env()?.to_str())
        .filter(|var| *var != "QUIVER_CONFIG")
        .filter_map(|var| var.strip_prefix("QUIVER_"))
        .map(str::to_lowercase)
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid TOML: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("{path}: unknown key '{key}' (known: {known})")]
    UnknownKey {
        path: PathBuf,
        key: String,
        known: String,
    },
    #[error("{path}: '{key}' must be a string, number or boolean")]
    BadValue { path: PathBuf, key: String },
}

/// The file named by `--config PATH`, `--config=PATH` or `QUIVER_CONFIG`.
pub fn path_from(args: &[String]) -> Option<PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(p) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(p));
        }
    }
    std::env::var_os("QUIVER_CONFIG").map(PathBuf::from)
}

/// Reads the file into `QUIVER_*` variable names and values.
pub fn read(path: &Path) -> Result<BTreeMap<String, String>, ConfigFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|source| ConfigFileError::Parse {
        path: path.to_owned(),
        source,
    })?;
    let keys = keys();
    let mut vars = BTreeMap::new();
    for (key, value) in table {
        if !keys.contains(&key) {
            return Err(ConfigFileError::UnknownKey {
                path: path.to_owned(),
                key,
                known: keys
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => if b { "1" } else { "0" }.to_owned(),
            toml::Value::Float(f) => f.to_string(),
            _ => {
                return Err(ConfigFileError::BadValue {
                    path: path.to_owned(),
                    key,
                });
            }
        };
        vars.insert(format!("QUIVER_{}", key.to_uppercase()), text);
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keys_are_the_variables_of_serve_and_the_global_flags() {
        let keys = keys();
        for key in [
            "database_url",
            "listen",
            "bulk_concurrency",
            "smtp_from",
            "demo_links",
        ] {
            assert!(keys.contains(key), "{key}");
        }
        assert!(
            !keys.contains("config"),
            "the file does not name another file"
        );
        assert!(
            !keys.contains("password"),
            "only serve's settings, not `bulk`'s"
        );
    }

    #[test]
    fn keys_become_variables_and_typos_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("quiver.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\nrate_limit = 0\ndemo = false\n",
        )
        .unwrap();
        let vars = read(&file).unwrap();
        assert_eq!(vars["QUIVER_LISTEN"], "0.0.0.0:9000");
        assert_eq!(vars["QUIVER_RATE_LIMIT"], "0");
        assert_eq!(vars["QUIVER_DEMO"], "0");
        std::fs::write(&file, "lisen = \"x\"\n").unwrap();
        assert!(matches!(
            read(&file),
            Err(ConfigFileError::UnknownKey { .. })
        ));
        std::fs::write(&file, "listen = [1]\n").unwrap();
        assert!(matches!(read(&file), Err(ConfigFileError::BadValue { .. })));
        let args: Vec<String> = ["quiver", "serve", "--config", "a.toml"]
            .map(String::from)
            .to_vec();
        assert_eq!(path_from(&args), Some(PathBuf::from("a.toml")));
    }
}
