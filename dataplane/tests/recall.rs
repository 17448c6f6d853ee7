//! Recall of every index type against brute force, filtered recall, and upsert/delete semantics,
//! with the data split across a sealed segment and the growing one.

use akidb_client::*;
use akidb_testkit::data::{clustered, exact_topk, recall, records};
use akidb_testkit::{temp_dir, DataPlane, Options};
use serde_json::json;

const DIM: usize = 16;

async fn load(dp: &DataPlane, name: &str, metric: Metric, index: IndexSpec, n: usize) -> Vec<f32> {
    let c = &dp.client;
    c.create_collection(&CreateCollection {
        name: name.into(),
        dimension: DIM as u32,
        metric,
        index,
        tiering: Tiering::Memory,
    })
    .await
    .expect("create");
    let v = clustered(n, DIM, 20, 11);
    let recs = records(&v, DIM, 0);
    for (i, chunk) in recs.chunks(1000).enumerate() {
        c.upsert(name, chunk.to_vec()).await.expect("upsert");
        if i == (n / 1000) / 2 {
            c.flush().await.expect("flush"); // first half becomes a sealed segment
        }
    }
    v
}

async fn mean_recall(
    dp: &DataPlane,
    name: &str,
    metric: Metric,
    v: &[f32],
    filter: Option<serde_json::Value>,
    params: Option<SearchParams>,
    keep: impl Fn(usize) -> bool,
) -> f64 {
    let queries = clustered(50, DIM, 20, 99);
    let mut total = 0.0;
    for q in queries.chunks_exact(DIM) {
        let mut req = QueryRequest::new(q.to_vec(), 10);
        req.filter = filter.clone();
        req.params = params.clone();
        let got: Vec<String> = dp
            .client
            .query(name, &req)
            .await
            .expect("query")
            .results
            .into_iter()
            .map(|h| h.id)
            .collect();
        total += recall(&got, &exact_topk(metric, v, DIM, q, 10, &keep));
    }
    total / 50.0
}

/// Moves r0 far away and deletes r1, then checks both show in results as they should.
async fn replace_and_delete(dp: &DataPlane, name: &str, v: &[f32]) {
    let c = &dp.client;
    let far = vec![1000.0f32; DIM];
    c.upsert(
        name,
        vec![Record {
            id: "r0".into(),
            vector: far.clone(),
            metadata: Default::default(),
        }],
    )
    .await
    .expect("replace");
    c.delete(
        name,
        &DeleteRequest {
            ids: Some(vec!["r1".into()]),
            filter: None,
        },
    )
    .await
    .expect("delete");
    for (row, gone) in [(0usize, "r0"), (1, "r1")] {
        let got = c
            .query(
                name,
                &QueryRequest::new(v[row * DIM..(row + 1) * DIM].to_vec(), 10),
            )
            .await
            .expect("q")
            .results;
        assert!(
            got.iter().all(|h| h.id != gone),
            "{name}: {gone} still found at its old position"
        );
    }
    let got = c
        .query(name, &QueryRequest::new(far, 1))
        .await
        .expect("q")
        .results;
    assert_eq!(
        got[0].id, "r0",
        "{name}: replaced vector not found at its new position"
    );
    assert_eq!(
        c.get_collection(name).await.expect("get").records as usize,
        v.len() / DIM - 1
    );
}

async fn check_index(index: IndexSpec, n: usize, metric: Metric, params: Option<SearchParams>) {
    let dir = temp_dir();
    let dp = DataPlane::start_ready(dir.path(), &Options::default())
        .await
        .expect("start");
    let v = load(&dp, "c", metric, index.clone(), n).await;
    let r = mean_recall(&dp, "c", metric, &v, None, params, |_| true).await;
    assert!(r >= 0.9, "{index:?}: recall@10 {r:.3} < 0.9");
    replace_and_delete(&dp, "c", &v).await;
}

#[tokio::test]
async fn flat_recall_and_semantics() {
    check_index(IndexSpec::Flat, 3000, Metric::L2, None).await;
}

#[tokio::test]
async fn hnsw_recall_and_semantics() {
    check_index(
        IndexSpec::Hnsw {
            m: 16,
            ef_construction: 100,
            ef_search: 64,
        },
        4000,
        Metric::Cosine,
        None,
    )
    .await;
}

#[tokio::test]
async fn ivf_flat_recall_and_semantics() {
    check_index(
        IndexSpec::IvfFlat {
            nlist: 16,
            nprobe: 8,
        },
        4000,
        Metric::L2,
        None,
    )
    .await;
}

#[tokio::test]
async fn ivf_pq_recall_and_semantics() {
    check_index(
        IndexSpec::IvfPq {
            nlist: 8,
            m: 16,
            nbits: 8,
            nprobe: 8,
        },
        24000,
        Metric::L2,
        None,
    )
    .await;
}

#[tokio::test]
async fn factory_string_recall_and_semantics() {
    // FAISS's own default nprobe for a factory IVF is 1; the query sets it.
    let p = SearchParams {
        nprobe: Some(8),
        ..Default::default()
    };
    check_index(
        IndexSpec::Factory {
            description: "IVF16,SQ8".into(),
        },
        6000,
        Metric::Ip,
        Some(p),
    )
    .await;
}

#[tokio::test]
async fn filtered_queries_keep_their_recall_on_hnsw() {
    let dir = temp_dir();
    let dp = DataPlane::start_ready(dir.path(), &Options::default())
        .await
        .expect("start");
    let v = load(
        &dp,
        "f",
        Metric::L2,
        IndexSpec::Hnsw {
            m: 16,
            ef_construction: 100,
            ef_search: 64,
        },
        6000,
    )
    .await;
    // 50% selectivity goes through FAISS with an ID selector; 10% and 0.5% fall back to exact search.
    let half = mean_recall(
        &dp,
        "f",
        Metric::L2,
        &v,
        Some(json!({"even": true})),
        None,
        |i| i % 2 == 0,
    )
    .await;
    let tenth = mean_recall(
        &dp,
        "f",
        Metric::L2,
        &v,
        Some(json!({"group": 3})),
        None,
        |i| i % 10 == 3,
    )
    .await;
    let rare = mean_recall(
        &dp,
        "f",
        Metric::L2,
        &v,
        Some(json!({"i": {"$lt": 30}})),
        None,
        |i| i < 30,
    )
    .await;
    assert!(
        half >= 0.9 && tenth >= 0.9 && rare >= 0.9,
        "filtered recall: 50% {half:.3}, 10% {tenth:.3}, 0.5% {rare:.3}"
    );
    let none = dp
        .client
        .query(
            "f",
            &QueryRequest {
                filter: Some(json!({"group": 42})),
                ..QueryRequest::new(v[..DIM].to_vec(), 10)
            },
        )
        .await
        .expect("q")
        .results;
    assert!(none.is_empty(), "a filter nothing matches returns nothing");
}
