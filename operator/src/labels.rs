//! Names, labels and annotations of the objects the operator owns. One place, so the builders,
//! the reconcilers, the chart's RBAC and the docs agree.

use std::collections::BTreeMap;

use crate::crd::AkiCluster;

/// Field manager of every server-side apply.
pub const FIELD_MANAGER: &str = "akidb-operator";
/// `app.kubernetes.io/managed-by` value; owned watches select on it.
pub const MANAGED_BY: &str = "akidb-operator";
/// Label selector of everything the operator creates.
pub const MANAGED_BY_SELECTOR: &str = "app.kubernetes.io/managed-by=akidb-operator";
/// Label of the colour (blue/green) a pod belongs to.
pub const COLOR_LABEL: &str = "akidb.io/color";
/// Pod-template annotation: hash of the restart-requiring part of the data-plane config.
pub const CONFIG_HASH_ANNOTATION: &str = "akidb.io/config-hash";
/// Annotation on every child: hash of what the operator last applied (skips no-op applies).
pub const APPLIED_HASH_ANNOTATION: &str = "akidb.io/applied-hash";
/// Colour of a new cluster.
pub const DEFAULT_COLOR: &str = "blue";
/// Port of the data-plane REST API (and `/metrics`).
pub const HTTP_PORT: i32 = 8080;
/// Name of the config file inside the ConfigMap and the mounted directory.
pub const CONFIG_FILE: &str = "akidb.toml";
/// Where the ConfigMap is mounted (as a directory, so updates propagate without a restart).
pub const CONFIG_DIR: &str = "/etc/akidb";
/// Mount point of the data volume.
pub const DATA_DIR: &str = "/data";

fn name(cluster: &AkiCluster) -> &str {
    cluster.metadata.name.as_deref().unwrap_or_default()
}

/// Labels that select every pod of a cluster, whatever its colour. `component` keeps other pods
/// that happen to share name and instance (e.g. the operator's own) out of the Services.
pub fn cluster_selector(cluster: &AkiCluster) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), "akidb".to_string()),
        (
            "app.kubernetes.io/component".to_string(),
            "dataplane".to_string(),
        ),
        (
            "app.kubernetes.io/instance".to_string(),
            name(cluster).to_string(),
        ),
    ])
}

/// Labels that select the pods of one colour.
pub fn color_selector(cluster: &AkiCluster, color: &str) -> BTreeMap<String, String> {
    let mut l = cluster_selector(cluster);
    l.insert(COLOR_LABEL.to_string(), color.to_string());
    l
}

/// Labels on every object the operator creates for a cluster.
pub fn common_labels(cluster: &AkiCluster) -> BTreeMap<String, String> {
    let mut l = cluster_selector(cluster);
    l.insert(
        "app.kubernetes.io/managed-by".to_string(),
        MANAGED_BY.to_string(),
    );
    l.insert(
        "app.kubernetes.io/component".to_string(),
        "dataplane".to_string(),
    );
    l.insert("app.kubernetes.io/part-of".to_string(), "akidb".to_string());
    l
}

pub fn statefulset_name(cluster: &AkiCluster, color: &str) -> String {
    format!("{}-{color}", name(cluster))
}

pub fn headless_service_name(cluster: &AkiCluster) -> String {
    format!("{}-headless", name(cluster))
}

/// The client Service carries the cluster's own name, so clients use `http://<cluster>:8080`.
pub fn client_service_name(cluster: &AkiCluster) -> String {
    name(cluster).to_string()
}

pub fn config_map_name(cluster: &AkiCluster) -> String {
    format!("{}-config", name(cluster))
}

pub fn pdb_name(cluster: &AkiCluster) -> String {
    name(cluster).to_string()
}

/// The active colour: the status's, or blue for a new cluster.
pub fn active_color(cluster: &AkiCluster) -> String {
    cluster
        .status
        .as_ref()
        .and_then(|s| s.active_color.clone())
        .unwrap_or_else(|| DEFAULT_COLOR.to_string())
}
