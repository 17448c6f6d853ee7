//! The AkiDB operator: turns `AkiCluster` and `AkiCollection` resources into data-plane pods and
//! collections. This file is the map of the crate: the error type, and the module list.
//!
//! - [`crd`]: the custom resource types (the source of `crds/*.yaml`).
//! - [`cluster`]: the AkiCluster controller — `dereference → validate → build → apply → status`.
//! - [`collection`]: the AkiCollection controller — talks to the data plane over REST.
//! - [`apply`], [`conditions`], [`context`], [`metrics`]: what both controllers share.
//! - [`leader`], [`http`], [`telemetry`]: the process around the controllers.
//! - [`testing`]: a harness that runs a real `akidb-dataplane` on loopback, for tests.

pub mod apply;
pub mod cluster;
pub mod collection;
pub mod conditions;
pub mod config;
pub mod context;
pub mod crd;
pub mod http;
pub mod labels;
pub mod leader;
pub mod metrics;
pub mod telemetry;
pub mod testing;

/// Everything a reconcile can fail with. Each variant says whose fault it is; the controllers map
/// them to a condition reason in one place (`reason()`), and to a metric label (`metric_label()`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Kubernetes API refused or failed a call (service side; retried with backoff).
    #[error("kubernetes API call failed: {0}")]
    Kube(#[source] Box<kube::Error>),
    /// Applying a child object failed (service side; retried with backoff).
    #[error("applying {kind} {name} failed: {source}")]
    ApplyFailed {
        kind: &'static str,
        name: String,
        #[source]
        source: Box<kube::Error>,
    },
    /// Writing the status subresource failed (service side; retried with backoff).
    #[error("writing status failed: {0}")]
    StatusPatchFailed(#[source] Box<kube::Error>),
    /// The data plane could not be reached or answered an error (service side; retried).
    #[error("data plane request failed: {0}")]
    DataPlane(#[source] akidb_client::ClientError),
    /// Adding or removing the collection finalizer failed (service side; retried).
    #[error("updating the finalizer failed: {0}")]
    Finalizer(#[source] Box<kube::Error>),
    /// An object or config could not be serialized (a bug in the operator).
    #[error("serialization failed: {0}")]
    Serialization(String),
    /// The resource is missing metadata the API server always sets (namespace, name).
    #[error("object is missing {0}")]
    MissingMetadata(&'static str),
}

impl Error {
    /// A low-cardinality label for the `errors` metric.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Kube(_) => "kube",
            Error::ApplyFailed { .. } => "apply_failed",
            Error::StatusPatchFailed(_) => "status_patch_failed",
            Error::DataPlane(_) => "data_plane",
            Error::Finalizer(_) => "finalizer",
            Error::Serialization(_) => "serialization",
            Error::MissingMetadata(_) => "missing_metadata",
        }
    }
}

impl From<kube::Error> for Error {
    fn from(e: kube::Error) -> Self {
        Error::Kube(Box::new(e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
