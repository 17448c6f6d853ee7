//! The AkiCluster reconciler against an in-memory Kubernetes API that records every write.

mod support;

use std::sync::Arc;

use akidb_operator::cluster::{error_policy, reconcile};
use akidb_operator::conditions::{find, is_true, DEGRADED, PROGRESSING, READY};
use akidb_operator::crd::AkiCluster;
use akidb_operator::labels::CONFIG_HASH_ANNOTATION;
use akidb_operator::testing::fixtures::{cluster, ClusterFixture, NAMESPACE};
use akidb_operator::Error;
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::Api;
use support::{context, fake_api, fake_api_failing, json, secret, Write};

/// Data-plane URL for cluster tests (the cluster controller never calls it).
const NO_DATA_PLANE: &str = "http://127.0.0.1:9";

async fn get<K>(client: &kube::Client, name: &str) -> K
where
    K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    Api::<K>::namespaced(client.clone(), NAMESPACE)
        .get(name)
        .await
        .unwrap_or_else(|e| panic!("get {name}: {e}"))
}

async fn exists<K>(client: &kube::Client, name: &str) -> bool
where
    K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    Api::<K>::namespaced(client.clone(), NAMESPACE)
        .get_opt(name)
        .await
        .expect("get_opt")
        .is_some()
}

/// Reconciles the stored AkiCluster "a" as the controller would after a watch event.
async fn reconcile_stored(
    client: &kube::Client,
    ctx: Arc<akidb_operator::context::Context>,
) -> Result<kube::runtime::controller::Action, Error> {
    reconcile(Arc::new(get::<AkiCluster>(client, "a").await), ctx).await
}

fn kinds(writes: &[Write]) -> Vec<(String, String)> {
    let mut k: Vec<_> = writes
        .iter()
        .map(|w| (w.verb.to_string(), w.kind.clone()))
        .collect();
    k.sort();
    k
}

#[tokio::test]
async fn a_new_cluster_gets_all_its_children_in_one_reconcile() {
    let api = fake_api(vec![json(&cluster("a").with_replicas(3))]).await;
    let ctx = context(&api.client, NO_DATA_PLANE);
    reconcile_stored(&api.client, ctx).await.expect("reconcile");

    assert!(exists::<ConfigMap>(&api.client, "a-config").await);
    assert!(exists::<Service>(&api.client, "a-headless").await);
    assert!(exists::<Service>(&api.client, "a").await);
    assert!(exists::<PodDisruptionBudget>(&api.client, "a").await);
    let sts: StatefulSet = get(&api.client, "a-blue").await;
    assert_eq!(sts.spec.and_then(|s| s.replicas), Some(3));
    let owner = &sts.metadata.owner_references.expect("owner")[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("AkiCluster", "a")
    );

    let writes = api.writes.take();
    let events = writes.iter().filter(|w| w.kind == "Event").count();
    assert_eq!(events, 5, "one Created event per child: {writes:?}");
    let c: AkiCluster = get(&api.client, "a").await;
    let st = c.status.expect("status written");
    assert_eq!(st.observed_generation, Some(1));
    assert!(is_true(&st.conditions, PROGRESSING));
    assert!(!is_true(&st.conditions, READY));
    assert_eq!(
        find(&st.conditions, READY).map(|c| c.reason.as_str()),
        Some("Creating")
    );
}

#[tokio::test]
async fn reconciling_an_unchanged_cluster_makes_no_writes() {
    let api = fake_api(vec![json(&cluster("a"))]).await;
    let ctx = context(&api.client, NO_DATA_PLANE);
    reconcile_stored(&api.client, ctx.clone())
        .await
        .expect("first");
    assert!(!api.writes.take().is_empty());

    reconcile_stored(&api.client, ctx).await.expect("second");
    assert_eq!(
        api.writes.take(),
        vec![],
        "an unchanged cluster must cause zero write calls"
    );
}

#[tokio::test]
async fn a_hot_reloadable_change_updates_only_the_config_map() {
    let api = fake_api(vec![json(&cluster("a"))]).await;
    let ctx = context(&api.client, NO_DATA_PLANE);
    reconcile_stored(&api.client, ctx.clone())
        .await
        .expect("first");
    let hash_before = pod_hash(&get::<StatefulSet>(&api.client, "a-blue").await);
    api.writes.take();

    let mut c: AkiCluster = get(&api.client, "a").await;
    c.spec.circuit_breaker.window_seconds = 10;
    reconcile(Arc::new(c), ctx).await.expect("second");
    let writes = api.writes.take_objects();
    assert_eq!(
        kinds(&writes),
        vec![("patch".to_string(), "ConfigMap".to_string())],
        "{writes:?}"
    );
    let cm: ConfigMap = get(&api.client, "a-config").await;
    assert!(cm.data.expect("data")["akidb.toml"].contains("window_seconds = 10"));
    assert_eq!(
        pod_hash(&get::<StatefulSet>(&api.client, "a-blue").await),
        hash_before
    );
}

#[tokio::test]
async fn a_restart_requiring_change_rolls_the_pod_template() {
    let api = fake_api(vec![
        json(&cluster("a")),
        json(&secret(
            "creds",
            &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
        )),
    ])
    .await;
    let ctx = context(&api.client, NO_DATA_PLANE);
    reconcile_stored(&api.client, ctx.clone())
        .await
        .expect("first");
    let hash_before = pod_hash(&get::<StatefulSet>(&api.client, "a-blue").await);
    api.writes.take();

    let c = get::<AkiCluster>(&api.client, "a")
        .await
        .with_s3("vectors", "creds");
    reconcile(Arc::new(c), ctx).await.expect("second");
    let patched: Vec<String> = api
        .writes
        .take_objects()
        .into_iter()
        .filter(|w| w.verb == "patch")
        .map(|w| w.kind)
        .collect();
    assert!(
        patched.contains(&"StatefulSet".to_string()) && patched.contains(&"ConfigMap".to_string()),
        "{patched:?}"
    );
    assert_ne!(
        pod_hash(&get::<StatefulSet>(&api.client, "a-blue").await),
        hash_before
    );
}

#[tokio::test]
async fn a_missing_secret_degrades_the_cluster_instead_of_failing() {
    let api = fake_api(vec![json(&cluster("a").with_s3("vectors", "creds"))]).await;
    let ctx = context(&api.client, NO_DATA_PLANE);
    let action = reconcile_stored(&api.client, ctx.clone()).await;
    assert!(
        action.is_ok(),
        "a missing Secret is a condition, not an error: {action:?}"
    );
    assert!(
        !exists::<StatefulSet>(&api.client, "a-blue").await,
        "nothing is created without credentials"
    );
    let st = get::<AkiCluster>(&api.client, "a")
        .await
        .status
        .expect("status");
    let degraded = find(&st.conditions, DEGRADED).expect("Degraded");
    assert_eq!(
        (degraded.status.as_str(), degraded.reason.as_str()),
        ("True", "SecretNotFound")
    );
    assert!(degraded.message.contains("creds"));
    let events: Vec<Write> = api
        .writes
        .take()
        .into_iter()
        .filter(|w| w.kind == "Event")
        .collect();
    assert_eq!(events.len(), 1, "one warning event");

    Api::<k8s_openapi::api::core::v1::Secret>::namespaced(api.client.clone(), NAMESPACE)
        .create(
            &Default::default(),
            &secret("creds", &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]),
        )
        .await
        .expect("create secret");
    reconcile_stored(&api.client, ctx)
        .await
        .expect("after the secret appears");
    assert!(exists::<StatefulSet>(&api.client, "a-blue").await);
    let st = get::<AkiCluster>(&api.client, "a")
        .await
        .status
        .expect("status");
    assert!(!is_true(&st.conditions, DEGRADED));
}

#[tokio::test]
async fn a_storage_change_after_creation_is_degraded_and_not_applied() {
    let api = fake_api(vec![json(&cluster("a"))]).await;
    let ctx = context(&api.client, NO_DATA_PLANE);
    reconcile_stored(&api.client, ctx.clone())
        .await
        .expect("first");
    api.writes.take();

    let mut c: AkiCluster = get(&api.client, "a").await;
    c.spec.storage.size = k8s_openapi::apimachinery::pkg::api::resource::Quantity("20Gi".into());
    reconcile(Arc::new(c), ctx)
        .await
        .expect("a spec error is not a reconcile error");
    let writes = api.writes.take_objects();
    assert!(writes.iter().all(|w| w.kind != "StatefulSet"), "{writes:?}");
    let st = get::<AkiCluster>(&api.client, "a")
        .await
        .status
        .expect("status");
    assert_eq!(
        find(&st.conditions, DEGRADED).map(|c| c.reason.as_str()),
        Some("StorageImmutable")
    );
}

#[tokio::test]
async fn condition_times_move_only_when_a_status_flips() {
    let api = fake_api(vec![json(&cluster("a"))]).await;
    let ctx = context(&api.client, NO_DATA_PLANE);
    reconcile_stored(&api.client, ctx.clone())
        .await
        .expect("first");

    // Back-date the conditions, then let the StatefulSet become ready.
    let mut c: AkiCluster = get(&api.client, "a").await;
    let old = Time(Timestamp::from_second(1_600_000_000).expect("ts"));
    let mut st = c.status.clone().expect("status");
    for cond in &mut st.conditions {
        cond.last_transition_time = old.clone();
    }
    patch_status(&api.client, "a", serde_json::json!({"status": st})).await;
    mark_statefulset_ready(&api.client, "a-blue", 1).await;
    c = get(&api.client, "a").await;
    reconcile(Arc::new(c), ctx).await.expect("second");

    let st = get::<AkiCluster>(&api.client, "a")
        .await
        .status
        .expect("status");
    let ready = find(&st.conditions, READY).expect("Ready");
    let degraded = find(&st.conditions, DEGRADED).expect("Degraded");
    let progressing = find(&st.conditions, PROGRESSING).expect("Progressing");
    assert_eq!(ready.status, "True");
    assert_ne!(ready.last_transition_time, old, "Ready flipped: new time");
    assert_ne!(
        progressing.last_transition_time, old,
        "Progressing flipped: new time"
    );
    assert_eq!(
        degraded.last_transition_time, old,
        "Degraded stayed False: time kept"
    );
    assert_eq!(st.ready_replicas, 1);
    assert_eq!(st.current_version.as_deref(), Some("0.1.0"));
}

#[tokio::test]
async fn a_manual_edit_of_an_owned_field_is_put_back() {
    let api = fake_api(vec![json(&cluster("a"))]).await;
    let ctx = context(&api.client, NO_DATA_PLANE);
    reconcile_stored(&api.client, ctx.clone())
        .await
        .expect("first");
    let svc_api = Api::<Service>::namespaced(api.client.clone(), NAMESPACE);
    let edit = serde_json::json!({"spec": {"selector": {"akidb.io/color": "green"}}});
    svc_api
        .patch("a", &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .expect("edit");
    api.writes.take();

    reconcile_stored(&api.client, ctx).await.expect("second");
    let writes = api.writes.take_objects();
    assert_eq!(
        kinds(&writes),
        vec![("patch".to_string(), "Service".to_string())],
        "{writes:?}"
    );
    let sel = svc_api
        .get("a")
        .await
        .expect("svc")
        .spec
        .and_then(|s| s.selector)
        .expect("selector");
    assert_eq!(sel.get("akidb.io/color").map(String::as_str), Some("blue"));
}

#[tokio::test]
async fn an_api_failure_while_applying_is_an_error_with_backoff_and_a_degraded_condition() {
    let api = fake_api_failing(vec![json(&cluster("a"))], Some("StatefulSet")).await;
    let ctx = context(&api.client, NO_DATA_PLANE);
    let c = Arc::new(get::<AkiCluster>(&api.client, "a").await);
    let err = reconcile(c.clone(), ctx.clone())
        .await
        .expect_err("apply must fail");
    assert!(
        matches!(
            err,
            Error::ApplyFailed {
                kind: "StatefulSet",
                ..
            }
        ),
        "{err:?}"
    );
    let st = get::<AkiCluster>(&api.client, "a")
        .await
        .status
        .expect("status");
    assert_eq!(
        find(&st.conditions, DEGRADED).map(|c| c.reason.as_str()),
        Some("ApplyFailed")
    );

    let first = error_policy(c.clone(), &err, ctx.clone());
    let second = error_policy(c, &err, ctx.clone());
    assert_eq!(
        first,
        kube::runtime::controller::Action::requeue(std::time::Duration::from_secs(5))
    );
    assert_eq!(
        second,
        kube::runtime::controller::Action::requeue(std::time::Duration::from_secs(10))
    );
    assert!(ctx.metrics.render().contains(
        r#"akidb_operator_reconcile_errors_total{controller="akicluster",error="apply_failed"} 2"#
    ));
}

fn pod_hash(sts: &StatefulSet) -> Option<String> {
    sts.spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.annotations.as_ref())
        .and_then(|a| a.get(CONFIG_HASH_ANNOTATION).cloned())
}

async fn patch_status(client: &kube::Client, name: &str, body: serde_json::Value) {
    Api::<AkiCluster>::namespaced(client.clone(), NAMESPACE)
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&body))
        .await
        .expect("patch status");
}

/// Plays the StatefulSet controller: every pod updated and ready.
async fn mark_statefulset_ready(client: &kube::Client, name: &str, replicas: i32) {
    let api = Api::<StatefulSet>::namespaced(client.clone(), NAMESPACE);
    let gen = api.get(name).await.expect("sts").metadata.generation;
    let status = StatefulSetStatus {
        observed_generation: gen,
        replicas,
        ready_replicas: Some(replicas),
        updated_replicas: Some(replicas),
        current_revision: Some("r1".into()),
        update_revision: Some("r1".into()),
        ..Default::default()
    };
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(&serde_json::json!({"status": status})),
    )
    .await
    .expect("sts status");
}
