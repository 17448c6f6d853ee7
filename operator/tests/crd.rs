//! The CRDs: committed YAML matches the Rust types (in `crds/` and in the chart), the CEL rules do
//! what they say, and the samples in `config/` pass them.

use std::path::{Path, PathBuf};

use akidb_operator::crd::{self, AkiCluster, AkiClusterSpec, AkiCollection};
use kube::core::cel::Validator;
use kube::CustomResourceExt;
use serde_json::{json, Value};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn committed_crds_match_the_rust_types() {
    for (file, def) in crd::all() {
        let generated = crd::to_yaml(&def).expect("yaml");
        for dir in ["crds", "charts/akidb-operator/crds"] {
            let path = repo().join(dir).join(file);
            assert!(
                read(&path) == generated,
                "{} is out of date; run `cargo run -p akidb-operator --bin crdgen -- crds` and copy crds/*.yaml to charts/akidb-operator/crds/",
                path.display()
            );
        }
    }
}

#[test]
fn spec_defaults_in_rust_equal_the_serde_defaults() {
    let from_empty: AkiClusterSpec = serde_json::from_value(json!({})).expect("defaults");
    assert_eq!(from_empty, AkiClusterSpec::default());
}

#[test]
fn crds_have_status_printer_columns_short_names_and_category() {
    let c = AkiCluster::crd();
    let cols: Vec<String> = c.spec.versions[0]
        .additional_printer_columns
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(cols, ["Ready", "Version", "Replicas", "Active", "Age"]);
    assert!(c.spec.versions[0]
        .subresources
        .as_ref()
        .and_then(|s| s.status.as_ref())
        .is_some());
    assert_eq!(c.spec.names.short_names, Some(vec!["akc".to_string()]));
    assert_eq!(c.spec.names.categories, Some(vec!["akidb".to_string()]));
    assert_eq!(c.spec.scope, "Namespaced");
    let c = AkiCollection::crd();
    let cols: Vec<String> = c.spec.versions[0]
        .additional_printer_columns
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(
        cols,
        ["Cluster", "Dimension", "Metric", "Records", "Ready", "Age"]
    );
    assert_eq!(c.spec.names.categories, Some(vec!["akidb".to_string()]));
}

fn schema<K: CustomResourceExt>() -> Value {
    let crd = K::crd();
    let s = crd.spec.versions[0]
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref())
        .expect("schema");
    serde_json::to_value(s).expect("json")
}

fn collection(dimension: u32, metric: &str, index: Value) -> Value {
    json!({"apiVersion": "akidb.io/v1alpha1", "kind": "AkiCollection", "metadata": {"name": "docs"},
           "spec": {"clusterRef": {"name": "c"}, "dimension": dimension, "metric": metric, "index": index}})
}

#[test]
fn changing_dimension_metric_or_index_type_is_rejected_by_cel() {
    let v = Validator::new();
    let s = schema::<AkiCollection>();
    let old = collection(4, "cosine", json!({"type": "hnsw"}));
    assert!(v.validate(&s, &old, Some(&old)).is_ok());
    let ef = collection(4, "cosine", json!({"type": "hnsw", "efSearch": 128}));
    assert!(
        v.validate(&s, &ef, Some(&old)).is_ok(),
        "search parameters may change"
    );
    for (new, field) in [
        (
            collection(8, "cosine", json!({"type": "hnsw"})),
            "dimension",
        ),
        (collection(4, "l2", json!({"type": "hnsw"})), "metric"),
        (
            collection(4, "cosine", json!({"type": "flat"})),
            "index.type",
        ),
    ] {
        let err = v.validate(&s, &new, Some(&old)).expect_err(field);
        assert!(
            format!("{err:?}").contains(&format!("{field} is immutable")),
            "{field}: {err:?}"
        );
    }
}

#[test]
fn index_types_require_their_parameters() {
    let v = Validator::new();
    let s = schema::<AkiCollection>();
    assert!(v
        .validate(&s, &collection(4, "l2", json!({"type": "ivf_flat"})), None)
        .is_err());
    assert!(v
        .validate(
            &s,
            &collection(4, "l2", json!({"type": "ivf_flat", "nlist": 16})),
            None
        )
        .is_ok());
    assert!(v
        .validate(&s, &collection(4, "l2", json!({"type": "factory"})), None)
        .is_err());
}

#[test]
fn s3_tiering_without_a_bucket_is_rejected_by_cel() {
    let v = Validator::new();
    let s = schema::<AkiCluster>();
    let c = |spec: Value| json!({"apiVersion": "akidb.io/v1alpha1", "kind": "AkiCluster", "metadata": {"name": "a"}, "spec": spec});
    assert!(v.validate(&s, &c(json!({})), None).is_ok());
    let err = v
        .validate(&s, &c(json!({"tiering": "s3_only"})), None)
        .expect_err("needs a bucket");
    assert!(format!("{err:?}").contains("objectStore"), "{err:?}");
    assert!(v
        .validate(
            &s,
            &c(json!({"tiering": "s3_only", "objectStore": {"bucket": "vectors"}})),
            None
        )
        .is_ok());
}

/// Every AkiCluster/AkiCollection in `config/samples/` parses into the Rust types and passes the CEL rules.
#[test]
fn samples_parse_and_pass_the_cel_rules() {
    let dir = repo().join("config/samples");
    let mut seen = 0;
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = read(&path);
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let value: Value = serde::Deserialize::deserialize(doc).expect("yaml");
            let (schema, kind) = match value["kind"].as_str() {
                Some("AkiCluster") => {
                    serde_json::from_value::<AkiCluster>(value.clone())
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    (schema::<AkiCluster>(), "AkiCluster")
                }
                Some("AkiCollection") => {
                    serde_json::from_value::<AkiCollection>(value.clone())
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    (schema::<AkiCollection>(), "AkiCollection")
                }
                _ => continue,
            };
            if let Err(e) = Validator::new().validate(&schema, &value, None) {
                panic!("{} ({kind}): {e:?}", path.display());
            }
            seen += 1;
        }
    }
    assert!(
        seen >= 4,
        "expected at least two clusters and two collections, found {seen}"
    );
}
