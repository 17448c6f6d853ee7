//! `AkiCollection`: one collection in the data plane of an `AkiCluster`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Tiering;

/// Finalizer that lets the operator delete the data-plane collection before the resource goes.
pub const FINALIZER: &str = "akidb.io/collection";

/// Desired state of a collection.
// The printcolumn(...) arguments repeat `type_`, which clippy mistakes for duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[kube(
    group = "akidb.io",
    version = "v1alpha1",
    kind = "AkiCollection",
    namespaced,
    status = "AkiCollectionStatus",
    derive = "Default",
    shortname = "akcol",
    category = "akidb",
    doc = "A vector collection in the data plane of an AkiCluster.",
    printcolumn(
        name = "Cluster",
        type_ = "string",
        json_path = ".spec.clusterRef.name"
    ),
    printcolumn(name = "Dimension", type_ = "integer", json_path = ".spec.dimension"),
    printcolumn(name = "Metric", type_ = "string", json_path = ".spec.metric"),
    printcolumn(name = "Records", type_ = "integer", json_path = ".status.records"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].status"#
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct AkiCollectionSpec {
    /// The AkiCluster (same namespace) that holds the collection.
    #[x_kube(validation = Rule::new("self == oldSelf").message("clusterRef is immutable; create a new AkiCollection instead"))]
    pub cluster_ref: ClusterRef,
    /// Name of the collection in the data plane; `metadata.name` when absent. A DNS label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    #[x_kube(validation = Rule::new("self == oldSelf").message("collectionName is immutable"))]
    pub collection_name: Option<String>,
    /// Vector dimension (1–4096). Immutable.
    #[schemars(range(min = 1, max = 4096))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("dimension is immutable; create a new AkiCollection instead"))]
    pub dimension: u32,
    /// Distance function. Immutable.
    #[x_kube(validation = Rule::new("self == oldSelf").message("metric is immutable; create a new AkiCollection instead"))]
    pub metric: Metric,
    /// FAISS index; the type is immutable, search parameters may change.
    #[serde(default)]
    #[x_kube(validation = Rule::new("self.type == oldSelf.type").message("index.type is immutable; create a new AkiCollection instead"))]
    pub index: IndexSpec,
    /// Tiering; the cluster's `spec.tiering` when absent. May change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiering: Option<Tiering>,
    /// What happens to the data when this resource is deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

/// Reference to an AkiCluster in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
pub struct ClusterRef {
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// Distance function (same spelling as the data-plane REST API).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    #[default]
    Cosine,
    L2,
    Ip,
}

impl From<Metric> for akidb_client::Metric {
    fn from(m: Metric) -> Self {
        match m {
            Metric::Cosine => akidb_client::Metric::Cosine,
            Metric::L2 => akidb_client::Metric::L2,
            Metric::Ip => akidb_client::Metric::Ip,
        }
    }
}

/// `Delete` removes the collection and its data with the resource; `Retain` keeps them.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, JsonSchema)]
pub enum DeletionPolicy {
    Delete,
    #[default]
    Retain,
}

/// The FAISS index of a collection. Parameters a type does not use are ignored.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new("self.type != 'factory' || has(self.description)").message("index.description is required when index.type is factory"))]
#[x_kube(validation = Rule::new("!(self.type in ['ivf_flat', 'ivf_pq']) || has(self.nlist)").message("index.nlist is required when index.type is ivf_flat or ivf_pq"))]
#[x_kube(validation = Rule::new("self.type != 'ivf_pq' || has(self.m)").message("index.m (sub-quantisers) is required when index.type is ivf_pq"))]
#[serde(rename_all = "camelCase")]
pub struct IndexSpec {
    /// `flat`, `hnsw`, `ivf_flat`, `ivf_pq` or `factory`.
    #[serde(rename = "type", default)]
    pub type_: IndexType,
    /// HNSW links per node, or IVF-PQ sub-quantisers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 512))]
    pub m: Option<u32>,
    /// HNSW build-time beam width.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub ef_construction: Option<u32>,
    /// HNSW search-time beam width.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub ef_search: Option<u32>,
    /// IVF lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub nlist: Option<u32>,
    /// IVF lists probed per query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub nprobe: Option<u32>,
    /// Bits per PQ code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 16))]
    pub nbits: Option<u32>,
    /// FAISS `index_factory` string, e.g. `OPQ16,IVF256,PQ16`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub description: Option<String>,
}

impl Default for IndexSpec {
    fn default() -> Self {
        IndexSpec {
            type_: IndexType::Hnsw,
            m: None,
            ef_construction: None,
            ef_search: None,
            nlist: None,
            nprobe: None,
            nbits: None,
            description: None,
        }
    }
}

/// Kind of FAISS index.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IndexType {
    Flat,
    #[default]
    Hnsw,
    IvfFlat,
    IvfPq,
    Factory,
}

/// Observed state of a collection.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AkiCollectionStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// Name of the collection in the data plane.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection_name: Option<String>,
    /// Live records.
    #[serde(default)]
    pub records: u64,
    /// Sealed segments plus the growing one.
    #[serde(default)]
    pub segments: u64,
    /// Bytes held in each tier.
    #[serde(default)]
    pub bytes: TierBytes,
}

/// Bytes a collection holds in each tier.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TierBytes {
    pub memory: u64,
    pub disk: u64,
    pub object_store: u64,
}

impl AkiCollection {
    /// Name of the collection in the data plane.
    pub fn collection_name(&self) -> String {
        self.spec
            .collection_name
            .clone()
            .unwrap_or_else(|| self.metadata.name.clone().unwrap_or_default())
    }
}
