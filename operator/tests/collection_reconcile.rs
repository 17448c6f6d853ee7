//! The AkiCollection reconciler against an in-memory Kubernetes API and a real `akidb-dataplane`
//! process on loopback (found through `AKIDB_DATAPLANE_BIN` or next to the test executable; a
//! missing binary fails these tests).

mod support;

use std::sync::Arc;

use akidb_client::{AkiClient, Record};
use akidb_operator::collection::reconcile;
use akidb_operator::conditions::{condition, find, merge, now, READY};
use akidb_operator::crd::collection::{DeletionPolicy, FINALIZER};
use akidb_operator::crd::{AkiCluster, AkiClusterStatus, AkiCollection};
use akidb_operator::testing::fixtures::{cluster, collection, CollectionFixture, NAMESPACE};
use akidb_testkit::{DataPlane, Options};
use kube::runtime::controller::Action;
use kube::Api;
use support::{context, fake_api, json, FakeApi};

fn ready_cluster(name: &str) -> AkiCluster {
    let mut c = cluster(name);
    c.status = Some(AkiClusterStatus {
        conditions: merge(
            &[],
            vec![condition(
                READY,
                true,
                "AllReplicasReady",
                "1/1 replicas ready",
                Some(1),
            )],
            &now(),
        ),
        ..Default::default()
    });
    c
}

async fn start_data_plane() -> DataPlane {
    DataPlane::start_scratch(&Options::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn get(api: &FakeApi, name: &str) -> AkiCollection {
    Api::<AkiCollection>::namespaced(api.client.clone(), NAMESPACE)
        .get(name)
        .await
        .expect("get collection")
}

async fn get_opt(api: &FakeApi, name: &str) -> Option<AkiCollection> {
    Api::<AkiCollection>::namespaced(api.client.clone(), NAMESPACE)
        .get_opt(name)
        .await
        .expect("get_opt")
}

fn ready(col: &AkiCollection) -> (String, String, String) {
    let conds = col
        .status
        .as_ref()
        .map(|s| s.conditions.clone())
        .unwrap_or_default();
    let c = find(&conds, READY).cloned().expect("Ready condition");
    (c.status, c.reason, c.message)
}

/// Reconciles the stored AkiCollection "docs" once against `dp`.
async fn reconcile_stored(api: &FakeApi, dp: &DataPlane) -> Result<Action, akidb_operator::Error> {
    reconcile(
        Arc::new(get(api, "docs").await),
        context(&api.client, &dp.url()),
    )
    .await
}

/// Reconciles the stored object until it carries the finalizer and has been synced once.
async fn sync(api: &FakeApi, dp: &DataPlane, name: &str) -> AkiCollection {
    let ctx = context(&api.client, &dp.url());
    for _ in 0..2 {
        reconcile(Arc::new(get(api, name).await), ctx.clone())
            .await
            .expect("reconcile");
    }
    get(api, name).await
}

fn vectors(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| Record {
            id: format!("r{i}"),
            vector: vec![1.0, i as f32, 0.5, 0.25],
            metadata: Default::default(),
        })
        .collect()
}

#[tokio::test]
async fn a_collection_on_a_ready_cluster_is_created_in_the_data_plane() {
    let dp = start_data_plane().await;
    let api = fake_api(vec![
        json(&ready_cluster("c")),
        json(&collection("docs", "c")),
    ])
    .await;
    let col = sync(&api, &dp, "docs").await;

    assert_eq!(col.metadata.finalizers, Some(vec![FINALIZER.to_string()]));
    let info = dp
        .client
        .get_collection("docs")
        .await
        .expect("collection exists");
    assert_eq!(
        (info.dimension, info.metric),
        (4, akidb_client::Metric::Cosine)
    );
    let (status, reason, _) = ready(&col);
    assert_eq!((status.as_str(), reason.as_str()), ("True", "Synced"));
    assert_eq!(
        col.status.as_ref().and_then(|s| s.observed_generation),
        col.metadata.generation
    );
    assert!(
        api.writes.take().iter().any(|w| w.kind == "Event"),
        "a Created event"
    );
}

#[tokio::test]
async fn an_unchanged_collection_reconciles_without_writes() {
    let dp = start_data_plane().await;
    let api = fake_api(vec![
        json(&ready_cluster("c")),
        json(&collection("docs", "c")),
    ])
    .await;
    sync(&api, &dp, "docs").await;
    api.writes.take();
    reconcile_stored(&api, &dp).await.expect("reconcile");
    assert_eq!(api.writes.take(), vec![]);
}

#[tokio::test]
async fn record_counts_are_refreshed_into_status() {
    let dp = start_data_plane().await;
    let api = fake_api(vec![
        json(&ready_cluster("c")),
        json(&collection("docs", "c")),
    ])
    .await;
    sync(&api, &dp, "docs").await;
    dp.client.upsert("docs", vectors(7)).await.expect("upsert");
    reconcile_stored(&api, &dp).await.expect("reconcile");
    assert_eq!(get(&api, "docs").await.status.map(|s| s.records), Some(7));
}

#[tokio::test]
async fn a_changed_dimension_is_reported_and_the_collection_left_alone() {
    let dp = start_data_plane().await;
    let api = fake_api(vec![
        json(&ready_cluster("c")),
        json(&collection("docs", "c")),
    ])
    .await;
    let col = sync(&api, &dp, "docs").await;
    dp.client.upsert("docs", vectors(3)).await.expect("upsert");

    // The fake API does not run the CRD's CEL rules, so the change reaches the controller — as it
    // would on a cluster whose CRD predates them, or when the collection was made by hand.
    let changed = col.with_dimension(8);
    reconcile(Arc::new(changed), context(&api.client, &dp.url()))
        .await
        .expect("reconcile");
    let (status, reason, message) = ready(&get(&api, "docs").await);
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "ImmutableFieldChanged")
    );
    assert!(
        message.contains("dimension is 4 in the data plane but 8"),
        "{message}"
    );
    let info = dp.client.get_collection("docs").await.expect("still there");
    assert_eq!((info.dimension, info.records), (4, 3));
}

#[tokio::test]
async fn a_search_parameter_change_is_patched_into_the_data_plane() {
    let dp = start_data_plane().await;
    let api = fake_api(vec![
        json(&ready_cluster("c")),
        json(&collection("docs", "c")),
    ])
    .await;
    let mut col = sync(&api, &dp, "docs").await;
    col.spec.index.ef_search = Some(128);
    reconcile(Arc::new(col), context(&api.client, &dp.url()))
        .await
        .expect("reconcile");
    let info = dp.client.get_collection("docs").await.expect("collection");
    assert!(
        matches!(
            info.index,
            akidb_client::IndexSpec::Hnsw { ef_search: 128, .. }
        ),
        "{:?}",
        info.index
    );
}

#[tokio::test]
async fn a_collection_waits_until_its_cluster_is_ready() {
    let dp = start_data_plane().await;
    let api = fake_api(vec![json(&cluster("c")), json(&collection("docs", "c"))]).await;
    let col = sync(&api, &dp, "docs").await;
    let (status, reason, message) = ready(&col);
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "ClusterNotReady")
    );
    assert!(message.contains("\"c\""), "{message}");
    let list = dp.client.list_collections().await.expect("list");
    assert!(
        list.collections.is_empty(),
        "nothing created before the cluster is Ready"
    );
}

#[tokio::test]
async fn a_missing_cluster_is_reported() {
    let dp = start_data_plane().await;
    let api = fake_api(vec![json(&collection("docs", "nope"))]).await;
    let (status, reason, _) = ready(&sync(&api, &dp, "docs").await);
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "ClusterNotFound")
    );
}

#[tokio::test]
async fn delete_policy_removes_the_collection_then_the_finalizer() {
    let dp = start_data_plane().await;
    let col = collection("docs", "c")
        .with_policy(DeletionPolicy::Delete)
        .finalized()
        .needs_delete();
    let api = fake_api(vec![json(&ready_cluster("c")), json(&col)]).await;
    let client = dp.client.clone();
    create_in_data_plane(&client).await;

    reconcile_stored(&api, &dp).await.expect("reconcile");
    let err = client.get_collection("docs").await.expect_err("deleted");
    assert_eq!(err.code(), Some("collection_not_found"));
    assert!(
        get_opt(&api, "docs").await.is_none(),
        "finalizer removed, object gone"
    );
}

#[tokio::test]
async fn retain_policy_keeps_the_collection_and_releases_the_resource() {
    let dp = start_data_plane().await;
    let col = collection("docs", "c")
        .with_policy(DeletionPolicy::Retain)
        .finalized()
        .needs_delete();
    let api = fake_api(vec![json(&ready_cluster("c")), json(&col)]).await;
    let client = dp.client.clone();
    create_in_data_plane(&client).await;

    reconcile_stored(&api, &dp).await.expect("reconcile");
    assert!(client.get_collection("docs").await.is_ok(), "data kept");
    assert!(
        get_opt(&api, "docs").await.is_none(),
        "finalizer removed, object gone"
    );
}

#[tokio::test]
async fn a_data_plane_that_is_down_keeps_the_finalizer_and_says_so() {
    let mut dp = start_data_plane().await;
    let col = collection("docs", "c")
        .with_policy(DeletionPolicy::Delete)
        .finalized()
        .needs_delete();
    let api = fake_api(vec![json(&ready_cluster("c")), json(&col)]).await;
    dp.kill();

    let res = reconcile_stored(&api, &dp).await;
    assert!(
        matches!(res, Err(akidb_operator::Error::DataPlane(_))),
        "{res:?}"
    );
    let kept = get_opt(&api, "docs").await.expect("object still there");
    assert_eq!(kept.metadata.finalizers, Some(vec![FINALIZER.to_string()]));
    let (status, reason, _) = ready(&kept);
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "DeleteFailed")
    );
}

#[tokio::test]
async fn a_data_plane_that_is_down_during_sync_is_a_condition_and_a_retry() {
    let mut dp = start_data_plane().await;
    let api = fake_api(vec![
        json(&ready_cluster("c")),
        json(&collection("docs", "c").finalized()),
    ])
    .await;
    dp.kill();
    let res = reconcile_stored(&api, &dp).await;
    assert!(
        matches!(res, Err(akidb_operator::Error::DataPlane(_))),
        "{res:?}"
    );
    let (status, reason, _) = ready(&get(&api, "docs").await);
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "DataPlaneUnavailable")
    );
}

async fn create_in_data_plane(client: &AkiClient) {
    let req = akidb_client::CreateCollection {
        name: "docs".into(),
        dimension: 4,
        metric: akidb_client::Metric::Cosine,
        index: Default::default(),
        tiering: Default::default(),
    };
    client.create_collection(&req).await.expect("create");
}
