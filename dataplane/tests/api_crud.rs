//! The REST API over real HTTP against the real binary: collections, records, queries, admin.

use akidb_client::*;
use akidb_testkit::{temp_dir, DataPlane, Options};
use serde_json::json;

fn create(name: &str, dim: u32, metric: Metric, index: IndexSpec) -> CreateCollection {
    CreateCollection {
        name: name.into(),
        dimension: dim,
        metric,
        index,
        tiering: Tiering::Memory,
    }
}

fn rec(id: &str, v: Vec<f32>, meta: serde_json::Value) -> Record {
    Record {
        id: id.into(),
        vector: v,
        metadata: meta.as_object().cloned().unwrap_or_default(),
    }
}

#[tokio::test]
async fn collection_lifecycle_and_record_roundtrip() {
    let dir = temp_dir();
    let dp = DataPlane::start_ready(dir.path(), &Options::default())
        .await
        .expect("start");
    let c = &dp.client;
    let info = c
        .create_collection(&create("docs", 3, Metric::L2, IndexSpec::default()))
        .await
        .expect("create");
    assert_eq!(
        (info.name.as_str(), info.dimension, info.records),
        ("docs", 3, 0)
    );
    assert_eq!(
        c.list_collections().await.expect("list").collections.len(),
        1
    );

    let up = c
        .upsert(
            "docs",
            vec![
                rec("a", vec![0.0, 0.0, 0.0], json!({"group": 3, "tags": ["x"]})),
                rec("b", vec![1.0, 0.0, 0.0], json!({"group": 4})),
                rec("c", vec![5.0, 0.0, 0.0], json!({})),
            ],
        )
        .await
        .expect("upsert");
    assert_eq!(up.upserted, 3);
    let got = c.get_record("docs", "a").await.expect("get");
    assert_eq!(got.vector, vec![0.0, 0.0, 0.0]);
    assert_eq!(got.metadata.get("tags"), Some(&json!(["x"])));

    let mut q = QueryRequest::new(vec![0.9, 0.0, 0.0], 2);
    q.include = vec![Include::Metadata, Include::Vector];
    let r = c.query("docs", &q).await.expect("query").results;
    assert_eq!(
        r.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
        vec!["b", "a"]
    );
    assert!(
        (r[0].score - 0.01).abs() < 1e-4,
        "l2 score is the squared distance"
    );
    assert_eq!(
        r[0].metadata.as_ref().and_then(|m| m.get("group")),
        Some(&json!(4))
    );
    assert_eq!(r[1].vector.as_deref(), Some(&[0.0f32, 0.0, 0.0][..]));

    let del = c
        .delete(
            "docs",
            &DeleteRequest {
                ids: Some(vec!["a".into(), "zz".into()]),
                filter: None,
            },
        )
        .await
        .expect("delete");
    assert_eq!(del.deleted, 1);
    assert_eq!(
        c.get_record("docs", "a").await.expect_err("gone").code(),
        Some("record_not_found")
    );
    assert_eq!(c.get_collection("docs").await.expect("get").records, 2);

    c.delete_collection("docs").await.expect("drop");
    let e = c.get_collection("docs").await.expect_err("dropped");
    assert_eq!(
        (e.status(), e.code()),
        (Some(404), Some("collection_not_found"))
    );
}

#[tokio::test]
async fn batch_query_filters_and_search_params() {
    let dir = temp_dir();
    let dp = DataPlane::start_ready(dir.path(), &Options::default())
        .await
        .expect("start");
    let c = &dp.client;
    c.create_collection(&create("b", 2, Metric::Ip, IndexSpec::Flat))
        .await
        .expect("create");
    let recs: Vec<Record> = (0..20)
        .map(|i| {
            rec(
                &format!("r{i}"),
                vec![i as f32, 1.0],
                json!({"price": i, "tag": if i % 2 == 0 {"even"} else {"odd"}}),
            )
        })
        .collect();
    c.upsert("b", recs).await.expect("upsert");
    let mut q = QueryRequest::new(vec![1.0, 0.0], 3);
    q.vector = None;
    q.vectors = Some(vec![vec![1.0, 0.0], vec![-1.0, 0.0]]);
    q.filter =
        Some(json!({"$and": [{"price": {"$gte": 5, "$lt": 15}}, {"tag": {"$in": ["odd"]}}]}));
    let r = c.query_batch("b", &q).await.expect("batch").results;
    let ids: Vec<Vec<&str>> = r
        .iter()
        .map(|l| l.iter().map(|h| h.id.as_str()).collect())
        .collect();
    assert_eq!(ids, vec![vec!["r13", "r11", "r9"], vec!["r5", "r7", "r9"]]);
    assert!(r[0][0].score > r[0][1].score, "ip scores descend");

    let del = c
        .delete(
            "b",
            &DeleteRequest {
                ids: None,
                filter: Some(json!({"price": {"$lt": 10}})),
            },
        )
        .await
        .expect("delete by filter");
    assert_eq!(del.deleted, 10);
    assert_eq!(c.get_collection("b").await.expect("get").records, 10);
}

#[tokio::test]
async fn patch_changes_search_parameters_but_refuses_immutable_fields() {
    let dir = temp_dir();
    let dp = DataPlane::start_ready(dir.path(), &Options::default())
        .await
        .expect("start");
    let c = &dp.client;
    c.create_collection(&create("p", 4, Metric::Cosine, IndexSpec::default()))
        .await
        .expect("create");
    let upd = UpdateCollection {
        index: Some(IndexSpec::Hnsw {
            m: 32,
            ef_construction: 200,
            ef_search: 128,
        }),
        ..Default::default()
    };
    let info = c.update_collection("p", &upd).await.expect("patch");
    assert_eq!(
        info.index,
        IndexSpec::Hnsw {
            m: 32,
            ef_construction: 200,
            ef_search: 128
        }
    );
    let bad = UpdateCollection {
        dimension: Some(8),
        ..Default::default()
    };
    assert_eq!(
        c.update_collection("p", &bad)
            .await
            .expect_err("dim")
            .code(),
        Some("immutable_field")
    );
    let bad = UpdateCollection {
        metric: Some(Metric::L2),
        ..Default::default()
    };
    assert_eq!(
        c.update_collection("p", &bad)
            .await
            .expect_err("metric")
            .code(),
        Some("immutable_field")
    );
    let bad = UpdateCollection {
        index: Some(IndexSpec::Flat),
        ..Default::default()
    };
    assert_eq!(
        c.update_collection("p", &bad)
            .await
            .expect_err("type")
            .code(),
        Some("immutable_field")
    );
    let after = c.get_collection("p").await.expect("get");
    assert_eq!((after.dimension, after.metric), (4, Metric::Cosine));
}

#[tokio::test]
async fn admin_endpoints_answer() {
    let dir = temp_dir();
    let dp = DataPlane::start_ready(dir.path(), &Options::default())
        .await
        .expect("start");
    let c = &dp.client;
    assert!(c.healthy().await.expect("healthz"));
    c.create_collection(&create("m", 2, Metric::L2, IndexSpec::Flat))
        .await
        .expect("create");
    c.upsert("m", vec![rec("a", vec![1.0, 2.0], json!({}))])
        .await
        .expect("upsert");
    let f = c.flush().await.expect("flush");
    assert_eq!(f.flushed, vec!["m".to_string()]);
    assert!(
        c.flush().await.expect("flush again").flushed.is_empty(),
        "nothing new to flush"
    );
    let info = c.get_collection("m").await.expect("get");
    assert!(
        info.bytes.object_store > 0 && info.bytes.memory > 0,
        "{:?}",
        info.bytes
    );
    let m = c.metrics_text().await.expect("metrics");
    for name in [
        "akidb_http_requests_total",
        "akidb_http_request_duration_seconds_bucket",
        "akidb_collection_records{collection=\"m\"} 1",
        "akidb_collection_bytes",
        "akidb_wal_bytes",
        "akidb_index_build_seconds_count 1",
        "akidb_segment_write_seconds_count 1",
        "akidb_query_search_seconds_count",
    ] {
        assert!(m.contains(name), "metrics lack {name}:\n{m}");
    }
    let spec: serde_json::Value = reqwest_get_json(&format!("{}/openapi.json", dp.url())).await;
    assert!(
        spec["paths"]["/v1/collections/{name}/query"]["post"].is_object(),
        "{spec}"
    );
    assert!(spec["components"]["schemas"]["ErrorBody"].is_object());
}

async fn reqwest_get_json(url: &str) -> serde_json::Value {
    let resp = reqwest::get(url).await.expect("get");
    assert!(resp.status().is_success(), "{url}: {}", resp.status());
    resp.json().await.expect("json")
}
