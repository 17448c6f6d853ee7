//! Wire types of the `/v1` REST API. Field names and shapes are the contract in DESIGN.md
//! ("REST API"); the server, the operator and the tests all use these, so a change here is a change
//! of the public API.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Record metadata: a JSON object whose scalar (and array-of-scalar) fields are filterable.
pub type Metadata = Map<String, Value>;

/// Distance function of a collection; fixed at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Cosine similarity (vectors are stored L2-normalised); score descending.
    Cosine,
    /// Squared Euclidean distance; score ascending.
    L2,
    /// Inner product; score descending.
    Ip,
}

impl Metric {
    /// True when a larger score is a better match.
    pub fn higher_is_better(self) -> bool {
        !matches!(self, Metric::L2)
    }
}

/// The FAISS index a collection's segments are built with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum IndexSpec {
    /// Exact search.
    Flat,
    /// HNSW graph (FAISS `IndexHNSWFlat`).
    Hnsw {
        #[serde(default = "default_hnsw_m")]
        m: u32,
        #[serde(default = "default_ef_construction")]
        ef_construction: u32,
        #[serde(default = "default_ef_search")]
        ef_search: u32,
    },
    /// Inverted file over exact vectors; trained once enough vectors exist.
    IvfFlat {
        nlist: u32,
        #[serde(default = "default_nprobe")]
        nprobe: u32,
    },
    /// Inverted file with product quantisation (`m` sub-quantisers of `nbits` bits).
    IvfPq {
        nlist: u32,
        m: u32,
        #[serde(default = "default_nbits")]
        nbits: u32,
        #[serde(default = "default_nprobe")]
        nprobe: u32,
    },
    /// Any FAISS `index_factory` description, e.g. `"OPQ16,IVF256,PQ16"`.
    Factory { description: String },
}

fn default_hnsw_m() -> u32 {
    32
}
fn default_ef_construction() -> u32 {
    200
}
fn default_ef_search() -> u32 {
    64
}
fn default_nprobe() -> u32 {
    8
}
fn default_nbits() -> u32 {
    8
}

impl Default for IndexSpec {
    fn default() -> Self {
        IndexSpec::Hnsw {
            m: default_hnsw_m(),
            ef_construction: default_ef_construction(),
            ef_search: default_ef_search(),
        }
    }
}

/// Where a collection's data lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Tiering {
    /// Everything in RAM; durability from the WAL and local segment snapshots.
    #[default]
    Memory,
    /// Everything in RAM; sealed segments also uploaded to object storage.
    MemoryS3,
    /// Segments live in object storage and are cached on demand.
    S3Only,
}

/// `POST /v1/collections`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateCollection {
    /// DNS label, at most 63 characters.
    pub name: String,
    /// 1..=4096.
    pub dimension: u32,
    pub metric: Metric,
    #[serde(default)]
    pub index: IndexSpec,
    #[serde(default)]
    pub tiering: Tiering,
}

/// `PATCH /v1/collections/{name}`: only search-time index parameters and tiering may change;
/// sending a different `dimension`, `metric` or index type is refused with `immutable_field`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateCollection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<Metric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<IndexSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiering: Option<Tiering>,
}

/// Bytes a collection holds in each tier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TierBytes {
    /// Vectors, metadata and FAISS indexes held in RAM.
    pub memory: u64,
    /// WAL and cached segment files on local disk.
    pub disk: u64,
    /// Segment objects in the object store.
    pub object_store: u64,
}

/// A collection as returned by create/list/get.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CollectionInfo {
    pub name: String,
    pub dimension: u32,
    pub metric: Metric,
    pub index: IndexSpec,
    pub tiering: Tiering,
    /// Live records (upserts minus deletes).
    #[serde(default)]
    pub records: u64,
    /// Sealed segments plus the growing one.
    #[serde(default)]
    pub segments: u64,
    #[serde(default)]
    pub bytes: TierBytes,
}

/// `GET /v1/collections`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CollectionList {
    pub collections: Vec<CollectionInfo>,
}

/// One stored item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Unique per collection, at most 256 bytes.
    pub id: String,
    /// `dimension` finite f32 values.
    #[serde(deserialize_with = "crate::f32s::vec")]
    pub vector: Vec<f32>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub metadata: Metadata,
}

/// `POST /v1/collections/{name}/upsert`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpsertRequest {
    pub records: Vec<Record>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpsertResponse {
    pub upserted: u64,
}

/// `POST /v1/collections/{name}/delete`: exactly one of `ids` or `filter`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeleteRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub filter: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteResponse {
    pub deleted: u64,
}

/// What a query hit carries besides id and score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Include {
    Metadata,
    Vector,
}

/// Per-query search parameters; unset ones take the collection's values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ef_search: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nprobe: Option<u32>,
    /// Force exact (brute-force) search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<bool>,
}

/// `POST /v1/collections/{name}/query`: exactly one of `vector` or `vectors` (batch form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QueryRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "crate::f32s::opt_vec")]
    pub vector: Option<Vec<f32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "crate::f32s::opt_vecs")]
    pub vectors: Option<Vec<Vec<f32>>>,
    #[serde(default = "default_k")]
    pub k: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub filter: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<Include>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<SearchParams>,
}

fn default_k() -> u32 {
    10
}

impl QueryRequest {
    /// A single-vector query with default options.
    pub fn new(vector: Vec<f32>, k: u32) -> Self {
        QueryRequest {
            vector: Some(vector),
            vectors: None,
            k,
            filter: None,
            include: Vec::new(),
            params: None,
        }
    }
}

/// One query result, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hit {
    pub id: String,
    /// The metric's own value: squared L2 distance, or inner-product/cosine similarity.
    pub score: f32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f32>>,
}

/// `{"results":[...]}` for one vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueryResponse {
    pub results: Vec<Hit>,
}

/// `{"results":[[...],[...]]}` for the batch form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchQueryResponse {
    pub results: Vec<Vec<Hit>>,
}

/// `POST /admin/flush`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlushResponse {
    /// Collections whose growing segment was sealed and persisted.
    pub flushed: Vec<String>,
}

/// The error body of every 4xx/5xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable, machine-readable, snake_case (`dimension_mismatch`, `collection_not_found`, ...).
    pub code: String,
    /// For people.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_request_in_design_shape_parses() {
        let body = r#"{"name":"docs","dimension":384,"metric":"cosine","index":{"type":"hnsw","m":32,
            "ef_construction":200,"ef_search":64},"tiering":"memory"}"#;
        let c: CreateCollection = serde_json::from_str(body).expect("parse");
        assert_eq!(c.metric, Metric::Cosine);
        assert_eq!(
            c.index,
            IndexSpec::Hnsw {
                m: 32,
                ef_construction: 200,
                ef_search: 64
            }
        );
    }

    #[test]
    fn index_defaults_fill_missing_parameters() {
        let i: IndexSpec =
            serde_json::from_str(r#"{"type":"ivf_flat","nlist":16}"#).expect("parse");
        assert_eq!(
            i,
            IndexSpec::IvfFlat {
                nlist: 16,
                nprobe: 8
            }
        );
        let t: Tiering = serde_json::from_str(r#""memory_s3""#).expect("parse");
        assert_eq!(t, Tiering::MemoryS3);
    }

    #[test]
    fn out_of_range_numbers_narrow_to_infinity() {
        let r: Record = serde_json::from_str(r#"{"id":"a","vector":[1e39, 0.5]}"#).expect("parse");
        assert!(r.vector[0].is_infinite() && r.vector[1] == 0.5);
        let q: QueryRequest =
            serde_json::from_str(r#"{"vectors":[[1e39],[2]],"k":1}"#).expect("parse");
        assert!(q.vectors.expect("vectors")[0][0].is_infinite());
        assert!(serde_json::from_str::<Record>(r#"{"id":"a","vector":["x"]}"#).is_err());
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let r = serde_json::from_str::<UpsertRequest>(r#"{"records":[],"extra":1}"#);
        assert!(r.is_err());
    }
}
