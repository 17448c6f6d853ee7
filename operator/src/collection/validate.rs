//! Pure parts of the AkiCollection controller: the create request a spec asks for, and how a live
//! collection differs from it.

use akidb_client::{CollectionInfo, CreateCollection, IndexSpec as WireIndex, UpdateCollection};
use serde_json::{json, Map, Value};

use crate::crd::collection::{IndexSpec, IndexType};
use crate::crd::{AkiCollection, Tiering};

/// Why a spec cannot be sent to the data plane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub reason: &'static str,
    pub message: String,
}

/// The create request for `col`, with `default_tiering` (the cluster's) when the spec has none.
pub fn create_request(
    col: &AkiCollection,
    default_tiering: Tiering,
) -> Result<CreateCollection, Invalid> {
    let name = col.collection_name();
    if !is_dns_label(&name) {
        return Err(Invalid {
            reason: "InvalidSpec",
            message: format!("collection name {name:?} is not a DNS label (lowercase letters, digits and '-', at most 63); set spec.collectionName"),
        });
    }
    if !(1..=4096).contains(&col.spec.dimension) {
        return Err(Invalid {
            reason: "InvalidSpec",
            message: format!(
                "spec.dimension is {}; it must be between 1 and 4096",
                col.spec.dimension
            ),
        });
    }
    Ok(CreateCollection {
        name,
        dimension: col.spec.dimension,
        metric: col.spec.metric.into(),
        index: wire_index(&col.spec.index)?,
        tiering: col.spec.tiering.unwrap_or(default_tiering).into(),
    })
}

/// The data plane's index description, with its defaults filled in for unset parameters.
pub fn wire_index(i: &IndexSpec) -> Result<WireIndex, Invalid> {
    let mut m = Map::new();
    let ty = match i.type_ {
        IndexType::Flat => "flat",
        IndexType::Hnsw => "hnsw",
        IndexType::IvfFlat => "ivf_flat",
        IndexType::IvfPq => "ivf_pq",
        IndexType::Factory => "factory",
    };
    m.insert("type".into(), json!(ty));
    let params: &[(&str, Option<Value>)] = match i.type_ {
        IndexType::Flat => &[],
        IndexType::Hnsw => &[
            ("m", i.m.map(Value::from)),
            ("ef_construction", i.ef_construction.map(Value::from)),
            ("ef_search", i.ef_search.map(Value::from)),
        ],
        IndexType::IvfFlat => &[
            ("nlist", i.nlist.map(Value::from)),
            ("nprobe", i.nprobe.map(Value::from)),
        ],
        IndexType::IvfPq => &[
            ("nlist", i.nlist.map(Value::from)),
            ("m", i.m.map(Value::from)),
            ("nbits", i.nbits.map(Value::from)),
            ("nprobe", i.nprobe.map(Value::from)),
        ],
        IndexType::Factory => &[("description", i.description.clone().map(Value::from))],
    };
    for (k, v) in params {
        if let Some(v) = v {
            m.insert((*k).to_string(), v.clone());
        }
    }
    serde_json::from_value(Value::Object(m)).map_err(|e| Invalid {
        reason: "InvalidSpec",
        message: format!("spec.index is incomplete for type {ty}: {e}"),
    })
}

/// How a live collection differs from the desired one.
#[derive(Debug, Clone, PartialEq)]
pub enum Diff {
    InSync,
    /// Only mutable settings differ; this PATCH fixes them.
    Update(UpdateCollection),
    /// An immutable setting differs; the message says which.
    Immutable(String),
}

pub fn diff(want: &CreateCollection, live: &CollectionInfo) -> Diff {
    let mut problems = Vec::new();
    if want.dimension != live.dimension {
        problems.push(format!(
            "dimension is {} in the data plane but {} in spec.dimension",
            live.dimension, want.dimension
        ));
    }
    if want.metric != live.metric {
        problems.push(format!(
            "metric is {:?} in the data plane but {:?} in spec.metric",
            live.metric, want.metric
        ));
    }
    if std::mem::discriminant(&want.index) != std::mem::discriminant(&live.index) {
        problems.push("the index type differs from spec.index.type".to_string());
    }
    if !problems.is_empty() {
        return Diff::Immutable(format!(
            "collection {:?}: {}; these cannot change — restore the old values, or create a new AkiCollection",
            want.name,
            problems.join("; ")
        ));
    }
    let update = UpdateCollection {
        index: (want.index != live.index).then(|| want.index.clone()),
        tiering: (want.tiering != live.tiering).then_some(want.tiering),
        ..Default::default()
    };
    if update == UpdateCollection::default() {
        Diff::InSync
    } else {
        Diff::Update(update)
    }
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
