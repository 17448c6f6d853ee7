//! `AkiCluster`: a set of data-plane pods with their storage, object store and reliability settings.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ResourceRequirements, Toleration};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Tiering;

/// The image repository used when `spec.image` is not set.
pub const DEFAULT_IMAGE: &str = "ghcr.io/akidb/akidb-dataplane";
/// The data-plane version used when `spec.version` is not set.
pub const DEFAULT_VERSION: &str = "0.1.0";

/// Desired state of an AkiDB data-plane cluster.
// The printcolumn(...) arguments repeat `type_`, which clippy mistakes for duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "akidb.io",
    version = "v1alpha1",
    kind = "AkiCluster",
    namespaced,
    status = "AkiClusterStatus",
    derive = "Default",
    shortname = "akc",
    category = "akidb",
    doc = "An AkiDB data-plane cluster: a StatefulSet of data-plane pods, their Services, config and PodDisruptionBudget.",
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].status"#
    ),
    printcolumn(
        name = "Version",
        type_ = "string",
        json_path = ".status.currentVersion"
    ),
    printcolumn(name = "Replicas", type_ = "integer", json_path = ".spec.replicas"),
    printcolumn(name = "Active", type_ = "string", json_path = ".status.activeColor"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[x_kube(validation = Rule::new("self.tiering == 'memory' || has(self.objectStore)").message("spec.objectStore (with a bucket) is required when spec.tiering is memory_s3 or s3_only"))]
#[serde(rename_all = "camelCase")]
pub struct AkiClusterSpec {
    /// Image repository of the data plane; the tag is `spec.version`.
    #[serde(default = "default_image")]
    pub image: String,
    /// Data-plane version (the image tag), e.g. `0.1.0`.
    #[serde(default = "default_version")]
    #[schemars(length(min = 1, max = 128))]
    pub version: String,
    /// Image pull policy of the data-plane container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<PullPolicy>,
    /// Number of data-plane pods (at least 1).
    #[serde(default = "default_replicas")]
    #[schemars(range(min = 1, max = 100))]
    pub replicas: i32,
    /// CPU and memory of each data-plane container. Defaults: requests 250m / 512Mi, limit 2Gi memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// The PersistentVolumeClaim of each pod (WAL, local segments, cache). Immutable: StatefulSet
    /// claim templates cannot change; resize PVCs directly if the StorageClass allows expansion.
    #[serde(default)]
    #[x_kube(validation = Rule::new("self == oldSelf").message("storage is immutable (StatefulSet volume claim templates cannot change); resize the PVCs directly instead"))]
    pub storage: StorageSpec,
    /// S3-compatible object storage. When absent the pods use a directory on their own volume
    /// (`file:///data/objects`), which suits development only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_store: Option<ObjectStoreSpec>,
    /// Default tiering of collections that do not set their own.
    #[serde(default)]
    pub tiering: Tiering,
    /// Circuit breaker in front of the object store (hot-reloaded, no restart).
    #[serde(default)]
    pub circuit_breaker: CircuitBreakerSpec,
    /// Dead-letter queue of failed uploads (hot-reloaded, no restart).
    #[serde(default)]
    pub dlq: DlqSpec,
    /// Background uploads to the object store (hot-reloaded, no restart).
    #[serde(default)]
    pub upload: UploadSpec,
    /// How version changes are rolled out.
    #[serde(default)]
    pub rollout: RolloutSpec,
    /// Serve the REST API over TLS with a certificate from a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSpec>,
    /// API-key authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthSpec>,
    /// Prometheus scraping of the data-plane pods.
    #[serde(default)]
    pub monitoring: MonitoringSpec,
    /// Node selector of the data-plane pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Tolerations of the data-plane pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Toleration>>,
}

impl Default for AkiClusterSpec {
    fn default() -> Self {
        AkiClusterSpec {
            image: default_image(),
            version: default_version(),
            image_pull_policy: None,
            replicas: default_replicas(),
            resources: None,
            storage: StorageSpec::default(),
            object_store: None,
            tiering: Tiering::default(),
            circuit_breaker: CircuitBreakerSpec::default(),
            dlq: DlqSpec::default(),
            upload: UploadSpec::default(),
            rollout: RolloutSpec::default(),
            tls: None,
            auth: None,
            monitoring: MonitoringSpec::default(),
            node_selector: None,
            tolerations: None,
        }
    }
}

/// When the kubelet pulls the image.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Always => "Always",
            PullPolicy::IfNotPresent => "IfNotPresent",
            PullPolicy::Never => "Never",
        }
    }
}

/// Volume of each data-plane pod.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StorageSpec {
    /// Requested size, e.g. `10Gi`.
    #[serde(default = "default_storage_size")]
    pub size: Quantity,
    /// StorageClass of the claim; the cluster default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
}

impl Default for StorageSpec {
    fn default() -> Self {
        StorageSpec {
            size: default_storage_size(),
            storage_class_name: None,
        }
    }
}

/// An S3-compatible bucket.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectStoreSpec {
    /// Bucket name (3–63 characters).
    #[schemars(length(min = 3, max = 63))]
    pub bucket: String,
    /// Key prefix inside the bucket; defaults to `<namespace>/<cluster name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Endpoint URL for non-AWS stores (MinIO, Ceph, R2), e.g. `http://minio.minio:9000`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Region, e.g. `eu-west-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Secret holding the access key pair. When absent the pods rely on ambient credentials
    /// (IRSA / workload identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret: Option<CredentialsSecretRef>,
}

/// A Secret in the cluster's namespace with an S3 access key pair.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsSecretRef {
    /// Name of the Secret.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key of the access key id in the Secret.
    #[serde(default = "default_access_key_key")]
    pub access_key_id_key: String,
    /// Key of the secret access key in the Secret.
    #[serde(default = "default_secret_key_key")]
    pub secret_access_key_key: String,
}

/// `[circuit_breaker]` of the data-plane config.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CircuitBreakerSpec {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Error rate over the window that opens the breaker (0–1).
    #[serde(default = "default_failure_threshold")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub failure_threshold: f64,
    #[serde(default = "default_window_seconds")]
    #[schemars(range(min = 1))]
    pub window_seconds: u32,
    /// Requests in the window before the error rate counts.
    #[serde(default = "default_min_requests")]
    #[schemars(range(min = 1))]
    pub min_requests: u32,
    /// Time the breaker stays open before probing.
    #[serde(default = "default_cooldown_seconds")]
    #[schemars(range(min = 1))]
    pub cooldown_seconds: u32,
    /// Successful probes that close the breaker again.
    #[serde(default = "default_half_open_successes")]
    #[schemars(range(min = 1))]
    pub half_open_successes: u32,
}

impl Default for CircuitBreakerSpec {
    fn default() -> Self {
        CircuitBreakerSpec {
            enabled: true,
            failure_threshold: default_failure_threshold(),
            window_seconds: default_window_seconds(),
            min_requests: default_min_requests(),
            cooldown_seconds: default_cooldown_seconds(),
            half_open_successes: default_half_open_successes(),
        }
    }
}

/// `[dlq]` of the data-plane config.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DlqSpec {
    /// Entries kept before the oldest are evicted (never the data they point at).
    #[serde(default = "default_dlq_max_size")]
    #[schemars(range(min = 1))]
    pub max_size: u64,
    #[serde(default = "default_dlq_ttl_seconds")]
    #[schemars(range(min = 1))]
    pub ttl_seconds: u64,
    #[serde(default = "default_dlq_flush_interval_seconds")]
    #[schemars(range(min = 1))]
    pub flush_interval_seconds: u64,
    #[serde(default = "default_dlq_retry_interval_seconds")]
    #[schemars(range(min = 1))]
    pub retry_interval_seconds: u64,
    #[serde(default = "default_dlq_max_retries")]
    pub max_retries: u32,
}

impl Default for DlqSpec {
    fn default() -> Self {
        DlqSpec {
            max_size: default_dlq_max_size(),
            ttl_seconds: default_dlq_ttl_seconds(),
            flush_interval_seconds: default_dlq_flush_interval_seconds(),
            retry_interval_seconds: default_dlq_retry_interval_seconds(),
            max_retries: default_dlq_max_retries(),
        }
    }
}

/// `[upload]` of the data-plane config.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadSpec {
    #[serde(default = "default_upload_batch_size")]
    #[schemars(range(min = 1))]
    pub batch_size: u32,
    #[serde(default = "default_upload_max_concurrency")]
    #[schemars(range(min = 1, max = 256))]
    pub max_concurrency: u32,
    /// Un-uploaded bytes above which writes get `503` (backpressure); the data plane's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pending_bytes: Option<u64>,
    #[serde(default)]
    pub compression: Compression,
}

impl Default for UploadSpec {
    fn default() -> Self {
        UploadSpec {
            batch_size: default_upload_batch_size(),
            max_concurrency: default_upload_max_concurrency(),
            max_pending_bytes: None,
            compression: Compression::default(),
        }
    }
}

/// Compression of uploaded segments.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    Zstd,
    None,
}

/// Rollout of a version change.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutSpec {
    #[serde(default)]
    pub strategy: RolloutStrategy,
    /// Run the smoke test (health, create/upsert/query/delete on a scratch collection) before switching.
    #[serde(default = "yes")]
    pub smoke_test: bool,
    /// A rollout not finished within this time is marked failed.
    #[serde(default = "default_progress_deadline_seconds")]
    #[schemars(range(min = 30))]
    pub progress_deadline_seconds: u32,
    /// How long the old colour keeps running after the switch.
    #[serde(default = "default_scale_down_delay_seconds")]
    pub scale_down_delay_seconds: u32,
}

impl Default for RolloutSpec {
    fn default() -> Self {
        RolloutSpec {
            strategy: RolloutStrategy::default(),
            smoke_test: true,
            progress_deadline_seconds: default_progress_deadline_seconds(),
            scale_down_delay_seconds: default_scale_down_delay_seconds(),
        }
    }
}

/// `RollingUpdate` replaces pods one by one in place; `BlueGreen` starts a second StatefulSet,
/// smoke-tests it and switches the client Service.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, JsonSchema)]
pub enum RolloutStrategy {
    #[default]
    RollingUpdate,
    BlueGreen,
}

/// TLS for the REST API.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TlsSpec {
    /// A `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`, optionally `ca.crt`).
    #[schemars(length(min = 1, max = 253))]
    pub secret_name: String,
    /// Require client certificates signed by `ca.crt` (mTLS).
    #[serde(default)]
    pub client_auth: bool,
}

/// API keys.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthSpec {
    /// Secret whose key `keys.toml` lists the hashed API keys and their roles.
    #[schemars(length(min = 1, max = 253))]
    pub api_keys_secret: String,
}

/// Prometheus scraping.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MonitoringSpec {
    /// Add `prometheus.io/*` scrape annotations to the pods.
    #[serde(default)]
    pub pod_annotations: bool,
}

/// Observed state of an AkiCluster.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AkiClusterStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`, `Progressing`, `Degraded`.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// Pods of the active colour that pass their readiness probe.
    #[serde(default)]
    pub ready_replicas: i32,
    /// Colour (`blue`/`green`) the client Service points at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_color: Option<String>,
    /// Version every active pod runs, once a rollout has finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_version: Option<String>,
    /// Version being rolled out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_version: Option<String>,
    /// In-cluster URL of the client Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

fn default_image() -> String {
    DEFAULT_IMAGE.to_string()
}
fn default_version() -> String {
    DEFAULT_VERSION.to_string()
}
fn default_replicas() -> i32 {
    1
}
fn default_storage_size() -> Quantity {
    Quantity("10Gi".to_string())
}
fn default_access_key_key() -> String {
    "AWS_ACCESS_KEY_ID".to_string()
}
fn default_secret_key_key() -> String {
    "AWS_SECRET_ACCESS_KEY".to_string()
}
fn yes() -> bool {
    true
}
fn default_failure_threshold() -> f64 {
    0.5
}
fn default_window_seconds() -> u32 {
    60
}
fn default_min_requests() -> u32 {
    20
}
fn default_cooldown_seconds() -> u32 {
    300
}
fn default_half_open_successes() -> u32 {
    10
}
fn default_dlq_max_size() -> u64 {
    10_000
}
fn default_dlq_ttl_seconds() -> u64 {
    604_800
}
fn default_dlq_flush_interval_seconds() -> u64 {
    60
}
fn default_dlq_retry_interval_seconds() -> u64 {
    300
}
fn default_dlq_max_retries() -> u32 {
    3
}
fn default_upload_batch_size() -> u32 {
    10
}
fn default_upload_max_concurrency() -> u32 {
    5
}
fn default_progress_deadline_seconds() -> u32 {
    600
}
fn default_scale_down_delay_seconds() -> u32 {
    300
}

impl AkiClusterSpec {
    /// The full image reference `repository:version` (or the repository alone when it carries a digest).
    pub fn image_ref(&self) -> String {
        if self.image.contains('@') {
            self.image.clone()
        } else {
            format!("{}:{}", self.image, self.version)
        }
    }
}
