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
    pub circuit_breaker: CircuitBreakerConfig,
    pub dlq: DlqConfig,
    pub upload: UploadConfig,
    /// Refused when set: this build serves plain HTTP only (see `validate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<toml_value::Table>,
    /// Refused when set: this build has no API keys yet (see `validate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<toml_value::Table>,
}

/// Untyped sections kept only to refuse them with a clear message.
pub mod toml_value {
    pub type Table = std::collections::BTreeMap<String, serde_json::Value>;
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
    /// S3-compatible endpoint and region, for `s3://` URLs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// Circuit breaker of the object-store path (DESIGN.md "Reliability of the S3 path"). Parsed and
/// validated now so operator-rendered files are accepted; enforced by the S3 upload path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CircuitBreakerConfig {
    pub enabled: bool,
    pub failure_threshold: f64,
    pub window_seconds: u64,
    pub min_requests: u64,
    pub cooldown_seconds: u64,
    pub half_open_successes: u64,
}

/// Dead-letter queue of failed uploads; see [`CircuitBreakerConfig`] for its status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DlqConfig {
    pub max_size: u64,
    pub ttl_seconds: u64,
    pub flush_interval_seconds: u64,
    pub retry_interval_seconds: u64,
    pub max_retries: u32,
}

/// Background segment uploads; see [`CircuitBreakerConfig`] for its status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UploadConfig {
    pub batch_size: u32,
    pub max_concurrency: u32,
    pub max_pending_bytes: u64,
    pub compression: String,
}

impl Default for CircuitBreakerConfig {
    fn default() -> Self {
        CircuitBreakerConfig {
            enabled: true,
            failure_threshold: 0.5,
            window_seconds: 60,
            min_requests: 20,
            cooldown_seconds: 300,
            half_open_successes: 10,
        }
    }
}

impl Default for DlqConfig {
    fn default() -> Self {
        DlqConfig {
            max_size: 10_000,
            ttl_seconds: 604_800,
            flush_interval_seconds: 60,
            retry_interval_seconds: 300,
            max_retries: 3,
        }
    }
}

impl Default for UploadConfig {
    fn default() -> Self {
        UploadConfig {
            batch_size: 10,
            max_concurrency: 5,
            max_pending_bytes: 1 << 30,
            compression: "zstd".into(),
        }
    }
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
        // Only `AKIDB_<SECTION>__<KEY>` variables are configuration; other `AKIDB_*` names (a
        // test's `AKIDB_DATAPLANE_BIN`, say) are not keys and must not fail start-up.
        let env = Env::prefixed("AKIDB_")
            .filter(|k| k.as_str().contains("__"))
            .split("__");
        let fig = fig.merge(env);
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
        self.validate_reliability()?;
        self.refuse_unserved()
    }

    fn validate_reliability(&self) -> Result<(), ConfigError> {
        let cb = &self.circuit_breaker;
        if !(cb.failure_threshold > 0.0 && cb.failure_threshold <= 1.0) {
            return Err(ConfigError(
                "circuit_breaker.failure_threshold must be in (0, 1]".into(),
            ));
        }
        if cb.window_seconds == 0 || cb.half_open_successes == 0 {
            return Err(ConfigError(
                "circuit_breaker.window_seconds and half_open_successes must be at least 1".into(),
            ));
        }
        if self.dlq.max_size == 0 || self.upload.max_concurrency == 0 || self.upload.batch_size == 0
        {
            return Err(ConfigError(
                "dlq.max_size, upload.batch_size and upload.max_concurrency must be at least 1"
                    .into(),
            ));
        }
        if !matches!(self.upload.compression.as_str(), "zstd" | "snappy" | "none") {
            return Err(ConfigError(
                "upload.compression must be zstd, snappy or none".into(),
            ));
        }
        Ok(())
    }

    /// Sections this build cannot honour are refused rather than silently ignored.
    fn refuse_unserved(&self) -> Result<(), ConfigError> {
        if self.tls.is_some() {
            return Err(ConfigError(
                "[tls] is set but this build serves plain HTTP only; remove it or use a build with TLS".into(),
            ));
        }
        if self.auth.is_some() {
            return Err(ConfigError(
                "[auth] is set but this build has no API-key authentication; remove it".into(),
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
            jail.set_env("AKIDB_CIRCUIT_BREAKER__WINDOW_SECONDS", "10");
            jail.set_env("AKIDB_DATAPLANE_BIN", "/not/a/config/key");
            let c = Config::load(Some(Path::new("akidb.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.storage.max_segment_rows, 7);
            assert_eq!(c.server.listen.port(), 9000);
            assert_eq!(c.limits, LimitsConfig::default());
            assert_eq!(c.circuit_breaker.window_seconds, 10);
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
            jail.create_file("c.toml", "[tls]\ncert_file = \"/x\"\n")?;
            let e = Config::load(Some(Path::new("c.toml"))).expect_err("tls refused");
            assert!(e.to_string().contains("plain HTTP"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn the_sample_config_file_loads() {
        let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/akidb.toml");
        let c = Config::load(Some(Path::new(sample))).expect("config/akidb.toml is valid");
        assert_eq!(c.server, ServerConfig::default());
        assert_eq!(c.upload, UploadConfig::default());
    }
}
