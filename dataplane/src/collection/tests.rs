use std::sync::Arc;

use akidb_client::{IndexSpec, Metadata, Metric, Record, SearchParams, Tiering};
use object_store::local::LocalFileSystem;
use serde_json::json;

use super::*;
use crate::filter::Filter;
use crate::manifest::{CollectionSpec, Manifest, ManifestStore};
use crate::wal::{FsyncPolicy, WalOptions};

struct Fixture {
    dir: tempfile::TempDir,
    ctx: OpenContext,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let objects = dir.path().join("objects");
        std::fs::create_dir_all(&objects).expect("mkdir");
        let fs = LocalFileSystem::new_with_prefix(&objects).expect("fs");
        let ctx = OpenContext {
            manifests: ManifestStore::new(Arc::new(fs)),
            wal_root: dir.path().join("wal"),
            wal_options: WalOptions {
                segment_bytes: 1 << 20,
                fsync: FsyncPolicy::Never,
            },
            limits: crate::config::LimitsConfig::default(),
            max_segment_rows: 1_000_000,
        };
        Fixture { dir, ctx }
    }

    async fn create(&self, index: IndexSpec) -> Arc<Collection> {
        let m = Manifest::initial(CollectionSpec {
            name: "c".into(),
            dimension: 2,
            metric: Metric::L2,
            index,
            tiering: Tiering::Memory,
        });
        self.ctx.manifests.commit(&m).await.expect("commit");
        open(m, &self.ctx).await.expect("open")
    }

    async fn reopen(&self) -> Arc<Collection> {
        let m = self
            .ctx
            .manifests
            .latest("c")
            .await
            .expect("latest")
            .expect("exists");
        open(m, &self.ctx).await.expect("reopen")
    }
}

fn rec(id: &str, x: f32, group: i64) -> Record {
    Record {
        id: id.into(),
        vector: vec![x, 0.0],
        metadata: json!({ "group": group })
            .as_object()
            .cloned()
            .unwrap_or_default(),
    }
}

async fn nearest(c: &Arc<Collection>, x: f32, k: usize, filter: Option<Filter>) -> Vec<String> {
    let q = Query {
        vectors: vec![x, 0.0],
        k,
        filter,
        include: vec![],
        params: SearchParams::default(),
    };
    c.query(q).await.expect("query")[0]
        .iter()
        .map(|h| h.id.clone())
        .collect()
}

#[tokio::test]
async fn upsert_replaces_and_delete_removes_across_seal_and_reopen() {
    let f = Fixture::new();
    let c = f.create(IndexSpec::Flat).await;
    c.upsert(
        (0..10)
            .map(|i| rec(&format!("r{i}"), i as f32, i % 2))
            .collect(),
    )
    .await
    .expect("upsert");
    assert!(c.seal().await.expect("seal"));
    // Replace r3 (now far away) and delete r4, both after the seal: they live in the WAL.
    c.upsert(vec![rec("r3", 100.0, 1)]).await.expect("replace");
    assert_eq!(
        c.delete_ids(vec!["r4".into(), "nope".into()])
            .await
            .expect("delete"),
        1
    );
    assert_eq!(nearest(&c, 3.6, 3, None).await, vec!["r5", "r2", "r6"]);
    drop(c);
    let c = f.reopen().await;
    assert_eq!(c.info().records, 9);
    assert_eq!(c.get_record("r3").expect("r3").vector, vec![100.0, 0.0]);
    assert!(c.get_record("r4").is_err());
    // Seal the WAL-held changes and reopen again: tombstones must survive the WAL truncation.
    assert!(c.seal().await.expect("seal"));
    drop(c);
    let c = f.reopen().await;
    assert_eq!(c.info().records, 9);
    assert!(c.get_record("r4").is_err());
    assert_eq!(nearest(&c, 3.6, 3, None).await, vec!["r5", "r2", "r6"]);
    let _ = &f.dir;
}

#[tokio::test]
async fn delete_by_filter_is_durable_and_counts_only_live_rows() {
    let f = Fixture::new();
    let c = f.create(IndexSpec::default()).await;
    c.upsert(
        (0..50)
            .map(|i| rec(&format!("r{i}"), i as f32, i % 5))
            .collect(),
    )
    .await
    .expect("upsert");
    let only3 = Filter::parse(&json!({"group": 3})).expect("filter");
    assert_eq!(c.delete_filter(only3.clone()).await.expect("delete"), 10);
    assert_eq!(c.delete_filter(only3.clone()).await.expect("again"), 0);
    drop(c);
    let c = f.reopen().await;
    assert_eq!(c.info().records, 40);
    assert!(nearest(&c, 3.0, 50, Some(only3)).await.is_empty());
    let g1 = Filter::parse(&json!({"group": 1})).expect("filter");
    assert_eq!(nearest(&c, 0.0, 3, Some(g1)).await, vec!["r1", "r6", "r11"]);
}

#[tokio::test]
async fn queries_merge_sealed_and_growing_segments() {
    let f = Fixture::new();
    let c = f.create(IndexSpec::Flat).await;
    c.upsert(vec![rec("a", 1.0, 0), rec("b", 5.0, 0)])
        .await
        .expect("upsert");
    c.seal().await.expect("seal");
    c.upsert(vec![rec("c", 2.0, 0)]).await.expect("upsert");
    assert_eq!(c.info().segments, 2);
    assert_eq!(nearest(&c, 1.9, 3, None).await, vec!["c", "a", "b"]);
    let meta: Metadata = c.get_record("a").expect("a").metadata;
    assert_eq!(meta.get("group"), Some(&json!(0)));
}
