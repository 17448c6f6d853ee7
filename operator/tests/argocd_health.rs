//! The Argo CD health checks in `config/argocd/`, run in vendored Lua 5.1 (what Argo CD's
//! gopher-lua implements) on sample statuses for every health state.

use std::path::{Path, PathBuf};

use mlua::{Lua, LuaSerdeExt, Table};
use serde_json::{json, Value};

fn argocd_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/argocd")
}

fn script(name: &str) -> String {
    let p = argocd_dir().join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Runs a health script with `obj` bound, as Argo CD does; returns (status, message).
fn health(script_name: &str, obj: Value) -> (String, String) {
    let lua = Lua::new();
    let value = lua.to_value(&obj).expect("to lua");
    lua.globals().set("obj", value).expect("set obj");
    let hs: Table = lua.load(script(script_name)).eval().expect("script runs");
    (
        hs.get("status").expect("status"),
        hs.get("message").expect("message"),
    )
}

fn cond(t: &str, status: &str, reason: &str) -> Value {
    json!({"type": t, "status": status, "reason": reason, "message": format!("{reason} happened"),
           "lastTransitionTime": "2026-01-01T00:00:00Z"})
}

fn obj(generation: i64, observed: Option<i64>, conditions: Option<Vec<Value>>) -> Value {
    let mut o = json!({"metadata": {"name": "x", "generation": generation}});
    if let Some(conds) = conditions {
        o["status"] = json!({"conditions": conds});
        if let Some(g) = observed {
            o["status"]["observedGeneration"] = json!(g);
        }
    }
    o
}

const CLUSTER: &str = "akicluster-health.lua";
const COLLECTION: &str = "akicollection-health.lua";

#[test]
fn cluster_without_status_is_progressing() {
    assert_eq!(health(CLUSTER, obj(1, None, None)).0, "Progressing");
}

#[test]
fn ready_cluster_is_healthy() {
    let conds = vec![
        cond("Ready", "True", "AllReplicasReady"),
        cond("Progressing", "False", "RolloutComplete"),
        cond("Degraded", "False", "AsExpected"),
    ];
    assert_eq!(health(CLUSTER, obj(2, Some(2), Some(conds))).0, "Healthy");
}

#[test]
fn rolling_out_cluster_is_progressing() {
    let conds = vec![
        cond("Ready", "False", "RollingOut"),
        cond("Progressing", "True", "RollingOut"),
        cond("Degraded", "False", "AsExpected"),
    ];
    let (status, message) = health(CLUSTER, obj(1, Some(1), Some(conds)));
    assert_eq!(status, "Progressing");
    assert!(message.starts_with("RollingOut"), "{message}");
}

#[test]
fn degraded_cluster_is_degraded_with_the_reason() {
    let conds = vec![
        cond("Ready", "False", "SecretNotFound"),
        cond("Progressing", "False", "SecretNotFound"),
        cond("Degraded", "True", "SecretNotFound"),
    ];
    let (status, message) = health(CLUSTER, obj(1, Some(1), Some(conds)));
    assert_eq!(status, "Degraded");
    assert!(message.starts_with("SecretNotFound: "), "{message}");
}

#[test]
fn a_status_for_an_older_generation_is_progressing() {
    let conds = vec![
        cond("Ready", "True", "AllReplicasReady"),
        cond("Degraded", "False", "AsExpected"),
    ];
    assert_eq!(
        health(CLUSTER, obj(3, Some(2), Some(conds.clone()))).0,
        "Progressing"
    );
    assert_eq!(
        health(COLLECTION, obj(3, Some(2), Some(conds))).0,
        "Progressing"
    );
}

#[test]
fn collection_states_map_to_health() {
    assert_eq!(health(COLLECTION, obj(1, None, None)).0, "Progressing");
    assert_eq!(
        health(
            COLLECTION,
            obj(1, Some(1), Some(vec![cond("Ready", "True", "Synced")]))
        )
        .0,
        "Healthy"
    );
    assert_eq!(
        health(
            COLLECTION,
            obj(
                1,
                Some(1),
                Some(vec![cond("Ready", "False", "ClusterNotReady")])
            )
        )
        .0,
        "Progressing"
    );
    for reason in [
        "ImmutableFieldChanged",
        "ClusterNotFound",
        "DataPlaneUnavailable",
        "DeleteFailed",
        "InvalidSpec",
    ] {
        let (status, message) = health(
            COLLECTION,
            obj(1, Some(1), Some(vec![cond("Ready", "False", reason)])),
        );
        assert_eq!(status, "Degraded", "{reason}");
        assert!(message.starts_with(reason), "{message}");
    }
}

#[test]
fn the_argocd_cm_patch_embeds_the_same_scripts() {
    let text = script("argocd-cm-patch.yaml");
    let cm: Value = serde_yaml::from_str(&text).expect("yaml");
    assert_eq!(
        cm["data"]["resource.customizations.health.akidb.io_AkiCluster"].as_str(),
        Some(script(CLUSTER).as_str())
    );
    assert_eq!(
        cm["data"]["resource.customizations.health.akidb.io_AkiCollection"].as_str(),
        Some(script(COLLECTION).as_str())
    );
}
