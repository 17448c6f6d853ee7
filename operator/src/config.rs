//! The data-plane config file (`akidb.toml`) an AkiCluster renders into its ConfigMap.
//!
//! The file has two parts. `[server]`, `[storage]`, `[object_store]`, `[tls]` and `[auth]` are read
//! once at start: their hash goes into a pod-template annotation, so a change to them restarts the
//! pods. `[circuit_breaker]`, `[dlq]` and `[upload]` are hot-reloaded by the data plane when the
//! mounted file changes, so they are outside the hash and a change to them restarts nothing.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::crd::cluster::{CircuitBreakerSpec, Compression, DlqSpec, UploadSpec};
use crate::crd::AkiCluster;
use crate::labels::{DATA_DIR, HTTP_PORT};
use crate::{Error, Result};

/// Where the TLS Secret is mounted.
pub const TLS_DIR: &str = "/etc/akidb/tls";
/// Where the API-keys Secret is mounted.
pub const AUTH_DIR: &str = "/etc/akidb/auth";

/// The rendered file and the hash of its restart-requiring part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedConfig {
    pub toml: String,
    pub restart_hash: String,
}

#[derive(Serialize)]
struct RestartPart {
    server: Server,
    storage: Storage,
    object_store: ObjectStore,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<Tls>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth: Option<Auth>,
}

#[derive(Serialize)]
struct HotPart {
    circuit_breaker: CircuitBreaker,
    dlq: Dlq,
    upload: Upload,
}

#[derive(Serialize)]
struct Server {
    listen: String,
}

#[derive(Serialize)]
struct Storage {
    data_dir: String,
    fsync: String,
}

#[derive(Serialize)]
struct ObjectStore {
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
}

#[derive(Serialize)]
struct Tls {
    cert_file: String,
    key_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_ca_file: Option<String>,
}

#[derive(Serialize)]
struct Auth {
    api_keys_file: String,
}

#[derive(Serialize)]
struct CircuitBreaker {
    enabled: bool,
    failure_threshold: f64,
    window_seconds: u32,
    min_requests: u32,
    cooldown_seconds: u32,
    half_open_successes: u32,
}

#[derive(Serialize)]
struct Dlq {
    max_size: u64,
    ttl_seconds: u64,
    flush_interval_seconds: u64,
    retry_interval_seconds: u64,
    max_retries: u32,
}

#[derive(Serialize)]
struct Upload {
    batch_size: u32,
    max_concurrency: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_pending_bytes: Option<u64>,
    compression: &'static str,
}

/// Renders `akidb.toml` for a cluster.
pub fn render(cluster: &AkiCluster) -> Result<RenderedConfig> {
    let restart = restart_part(cluster);
    let hot = hot_part(
        &cluster.spec.circuit_breaker,
        &cluster.spec.dlq,
        &cluster.spec.upload,
    );
    let restart_toml = to_toml(&restart)?;
    let hot_toml = to_toml(&hot)?;
    let toml = format!(
        "# Rendered by akidb-operator from AkiCluster {}; edits are overwritten.\n\
         # Restart-requiring settings (their hash is the pod annotation akidb.io/config-hash):\n\
         {restart_toml}\n# Hot-reloaded settings:\n{hot_toml}",
        cluster.metadata.name.as_deref().unwrap_or_default()
    );
    Ok(RenderedConfig {
        toml,
        restart_hash: short_hash(restart_toml.as_bytes()),
    })
}

/// The object-store URL of a cluster: `s3://bucket/prefix`, or the local default.
pub fn object_store_url(cluster: &AkiCluster) -> String {
    match &cluster.spec.object_store {
        Some(os) => {
            let prefix = os.prefix.clone().unwrap_or_else(|| {
                format!(
                    "{}/{}",
                    cluster.metadata.namespace.as_deref().unwrap_or("default"),
                    cluster.metadata.name.as_deref().unwrap_or_default()
                )
            });
            let prefix = prefix.trim_matches('/');
            if prefix.is_empty() {
                format!("s3://{}", os.bucket)
            } else {
                format!("s3://{}/{prefix}", os.bucket)
            }
        }
        None => format!("file://{DATA_DIR}/objects"),
    }
}

fn restart_part(cluster: &AkiCluster) -> RestartPart {
    let os = cluster.spec.object_store.as_ref();
    RestartPart {
        server: Server {
            listen: format!("0.0.0.0:{HTTP_PORT}"),
        },
        storage: Storage {
            data_dir: DATA_DIR.to_string(),
            fsync: "always".to_string(),
        },
        object_store: ObjectStore {
            url: object_store_url(cluster),
            endpoint: os.and_then(|o| o.endpoint.clone()),
            region: os.and_then(|o| o.region.clone()),
        },
        tls: cluster.spec.tls.as_ref().map(|t| Tls {
            cert_file: format!("{TLS_DIR}/tls.crt"),
            key_file: format!("{TLS_DIR}/tls.key"),
            client_ca_file: t.client_auth.then(|| format!("{TLS_DIR}/ca.crt")),
        }),
        auth: cluster.spec.auth.as_ref().map(|_| Auth {
            api_keys_file: format!("{AUTH_DIR}/keys.toml"),
        }),
    }
}

fn hot_part(cb: &CircuitBreakerSpec, dlq: &DlqSpec, up: &UploadSpec) -> HotPart {
    HotPart {
        circuit_breaker: CircuitBreaker {
            enabled: cb.enabled,
            failure_threshold: cb.failure_threshold,
            window_seconds: cb.window_seconds,
            min_requests: cb.min_requests,
            cooldown_seconds: cb.cooldown_seconds,
            half_open_successes: cb.half_open_successes,
        },
        dlq: Dlq {
            max_size: dlq.max_size,
            ttl_seconds: dlq.ttl_seconds,
            flush_interval_seconds: dlq.flush_interval_seconds,
            retry_interval_seconds: dlq.retry_interval_seconds,
            max_retries: dlq.max_retries,
        },
        upload: Upload {
            batch_size: up.batch_size,
            max_concurrency: up.max_concurrency,
            max_pending_bytes: up.max_pending_bytes,
            compression: match up.compression {
                Compression::Zstd => "zstd",
                Compression::None => "none",
            },
        },
    }
}

fn to_toml<T: Serialize>(v: &T) -> Result<String> {
    toml::to_string(v).map_err(|e| Error::Serialization(e.to_string()))
}

/// First 16 hex digits of the SHA-256 of `bytes`: stable across builds and Rust versions.
pub fn short_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::cluster::{ObjectStoreSpec, TlsSpec};
    use crate::testing::fixtures::cluster;

    #[test]
    fn config_renders_every_section_the_data_plane_reads() {
        let c = render(&cluster("a")).expect("render");
        let parsed: toml::Table = toml::from_str(&c.toml).expect("valid toml");
        for section in [
            "server",
            "storage",
            "object_store",
            "circuit_breaker",
            "dlq",
            "upload",
        ] {
            assert!(
                parsed.contains_key(section),
                "missing [{section}] in\n{}",
                c.toml
            );
        }
        assert_eq!(parsed["server"]["listen"].as_str(), Some("0.0.0.0:8080"));
        assert_eq!(parsed["storage"]["fsync"].as_str(), Some("always"));
        assert_eq!(
            parsed["object_store"]["url"].as_str(),
            Some("file:///data/objects")
        );
        assert_eq!(parsed["dlq"]["max_size"].as_integer(), Some(10_000));
        assert_eq!(
            parsed["circuit_breaker"]["failure_threshold"].as_float(),
            Some(0.5)
        );
    }

    #[test]
    fn s3_url_defaults_the_prefix_to_namespace_and_name() {
        let mut c = cluster("prod");
        c.spec.object_store = Some(ObjectStoreSpec {
            bucket: "vectors".into(),
            prefix: None,
            endpoint: Some("http://minio:9000".into()),
            region: Some("eu-west-1".into()),
            credentials_secret: None,
        });
        assert_eq!(object_store_url(&c), "s3://vectors/default/prod");
        let toml = render(&c).expect("render").toml;
        assert!(toml.contains("endpoint = \"http://minio:9000\""), "{toml}");
    }

    #[test]
    fn hot_reloadable_changes_keep_the_restart_hash() {
        let base = render(&cluster("a")).expect("render");
        let mut c = cluster("a");
        c.spec.circuit_breaker.window_seconds = 10;
        c.spec.dlq.max_retries = 9;
        c.spec.upload.max_concurrency = 2;
        let changed = render(&c).expect("render");
        assert_ne!(base.toml, changed.toml);
        assert_eq!(base.restart_hash, changed.restart_hash);
    }

    #[test]
    fn restart_requiring_changes_move_the_restart_hash() {
        let base = render(&cluster("a")).expect("render").restart_hash;
        let mut c = cluster("a");
        c.spec.tls = Some(TlsSpec {
            secret_name: "t".into(),
            client_auth: false,
        });
        assert_ne!(render(&c).expect("render").restart_hash, base);
        let mut c = cluster("a");
        c.spec.object_store = Some(ObjectStoreSpec {
            bucket: "b12".into(),
            prefix: Some("p".into()),
            endpoint: None,
            region: None,
            credentials_secret: None,
        });
        assert_ne!(render(&c).expect("render").restart_hash, base);
    }
}
