//! Server configuration: defaults, then the TOML file, then `AKIDB_<SECTION>__<KEY>` environment
//! variables, then command-line flags (each overriding the one before).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::wal::FsyncPolicy;

/// All settings of the data plane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[derive(Default)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub object_store: ObjectStoreConfig,
    pub limits: LimitsConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Requests running longer are answered `503 timeout`.
    pub request_timeout_seconds: u64,
    /// `json` (default, for log pipelines) or `text`.
    pub log_format: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// WAL and local caches live here (the pod's PVC).
    pub data_dir: PathBuf,
    /// `"always"`, `{ group_commit_ms = N }` or `"never"` (tests only).
    pub fsync: FsyncPolicy,
    /// WAL files rotate past this size.
    pub wal_segment_bytes: u64,
    /// The growing segment is sealed (persisted as Parquet + FAISS index) at this many rows.
    pub max_segment_rows: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[derive(Default)]
pub struct ObjectStoreConfig {
    /// `file:///abs/path` or empty for `<data_dir>/objects` (the embedded default).
    pub url: String,
}

/// Request-size bounds; larger requests get a 4xx instead of unbounded work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_upsert_batch: usize,
    pub max_delete_batch: usize,
    pub max_query_vectors: usize,
    pub max_k: usize,
    pub max_collections: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 64 * 1024 * 1024,
            request_timeout_seconds: 60,
            log_format: "json".into(),
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            data_dir: PathBuf::from("./data"),
            fsync: FsyncPolicy::Always,
            wal_segment_bytes: 64 * 1024 * 1024,
            max_segment_rows: 1_000_000,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_upsert_batch: 10_000,
            max_delete_batch: 10_000,
            max_query_vectors: 1_000,
            max_k: 1_000,
            max_collections: 1_000,
        }
    }
}

/// A configuration that cannot be used; the message says which key and why.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Defaults, then `file` (if any), then `AKIDB_*` environment variables.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(ConfigError(format!(
                    "config file {} not found",
                    f.display()
                )));
            }
            fig = fig.merge(Toml::file(f));
        }
        let fig = fig.merge(Env::prefixed("AKIDB_").split("__"));
        let cfg: Config = fig.extract().map_err(|e| ConfigError(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let l = &self.limits;
        if l.max_upsert_batch == 0 || l.max_query_vectors == 0 || l.max_k == 0 {
            return Err(ConfigError("limits must be at least 1".into()));
        }
        if self.storage.max_segment_rows == 0 {
            return Err(ConfigError(
                "storage.max_segment_rows must be at least 1".into(),
            ));
        }
        if self.storage.wal_segment_bytes < 4096 {
            return Err(ConfigError(
                "storage.wal_segment_bytes must be at least 4096".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn file_then_env_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "akidb.toml",
                "[storage]\nmax_segment_rows = 5\n[server]\nlisten = \"127.0.0.1:9000\"\n",
            )?;
            jail.set_env("AKIDB_STORAGE__MAX_SEGMENT_ROWS", "7");
            let c = Config::load(Some(Path::new("akidb.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.storage.max_segment_rows, 7);
            assert_eq!(c.server.listen.port(), 9000);
            assert_eq!(c.limits, LimitsConfig::default());
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_bad_values_are_rejected() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("a.toml", "[storage]\nno_such_key = 1\n")?;
            assert!(Config::load(Some(Path::new("a.toml"))).is_err());
            jail.create_file("b.toml", "[storage]\nmax_segment_rows = 0\n")?;
            assert!(Config::load(Some(Path::new("b.toml"))).is_err());
            assert!(Config::load(Some(Path::new("missing.toml"))).is_err());
            Ok(())
        });
    }
}
