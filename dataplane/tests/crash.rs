//! Crash safety: SIGKILL the server at random points while several clients upsert and delete
//! (with frequent background seals), restart it, and check every acknowledged write.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use akidb_client::*;
use akidb_testkit::data::Rng;
use akidb_testkit::{temp_dir, DataPlane, Options};
use tokio::sync::Mutex;

const DIM: usize = 4;
const WRITERS: usize = 4;

#[derive(Default)]
struct Acked {
    /// id → vector of the last acknowledged upsert.
    live: HashMap<String, Vec<f32>>,
    /// ids whose delete was acknowledged (never written again).
    deleted: Vec<String>,
    /// Writes in flight at a kill: each may or may not have been applied.
    uncertain: usize,
}

fn vector_for(round: usize, w: usize, seq: usize) -> Vec<f32> {
    vec![
        round as f32,
        w as f32,
        seq as f32,
        (round * 7 + seq) as f32 % 13.0,
    ]
}

async fn writer(client: AkiClient, round: usize, w: usize, acked: Arc<Mutex<Acked>>) {
    for seq in 0.. {
        let batch: Vec<Record> = (0..20)
            .map(|j| Record {
                id: format!("k{round}-{w}-{seq}-{j}"),
                vector: vector_for(round, w, seq * 20 + j),
                metadata: Default::default(),
            })
            .collect();
        match client.upsert("crash", batch.clone()).await {
            Ok(_) => {
                let mut a = acked.lock().await;
                for r in batch {
                    a.live.insert(r.id, r.vector);
                }
            }
            Err(_) => {
                // The server died: this batch may or may not have been logged.
                acked.lock().await.uncertain += batch.len();
                return;
            }
        }
        if seq % 3 == 2 {
            let victim = format!("k{round}-{w}-{}-0", seq - 1);
            let req = DeleteRequest {
                ids: Some(vec![victim.clone()]),
                filter: None,
            };
            if client.delete("crash", &req).await.is_ok() {
                let mut a = acked.lock().await;
                a.live.remove(&victim);
                a.deleted.push(victim);
            } else {
                let mut a = acked.lock().await;
                a.live.remove(&victim);
                a.uncertain += 1;
                return;
            }
        }
    }
}

async fn verify(dp: &DataPlane, acked: &Acked) {
    let c = &dp.client;
    for (id, v) in &acked.live {
        match c.get_record("crash", id).await {
            Ok(r) => assert_eq!(&r.vector, v, "{id} has the wrong vector"),
            Err(e) => panic!("acknowledged record {id} lost: {e}; log: {}", dp.log_tail()),
        }
    }
    for id in &acked.deleted {
        let e = c
            .get_record("crash", id)
            .await
            .expect_err("acknowledged delete came back");
        assert_eq!(e.code(), Some("record_not_found"), "{id}");
    }
}

async fn run_rounds(rounds: usize, seed: u64, opts: Options) {
    let dir = temp_dir();
    let mut rng = Rng::new(seed);
    let acked = Arc::new(Mutex::new(Acked::default()));
    for round in 0..rounds {
        let mut dp = DataPlane::start_ready(dir.path(), &opts)
            .await
            .expect("start");
        if round == 0 {
            dp.client
                .create_collection(&CreateCollection {
                    name: "crash".into(),
                    dimension: DIM as u32,
                    metric: Metric::L2,
                    index: IndexSpec::Hnsw {
                        m: 8,
                        ef_construction: 32,
                        ef_search: 32,
                    },
                    tiering: Tiering::Memory,
                })
                .await
                .expect("create");
        } else {
            verify(&dp, &*acked.lock().await).await;
        }
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| tokio::spawn(writer(dp.client.clone(), round, w, Arc::clone(&acked))))
            .collect();
        if rng.below(3) == 0 {
            let c = dp.client.clone();
            tokio::spawn(async move {
                let _ = c.flush().await;
            });
        }
        // The kill point: a random moment 30–600 ms into the writes.
        tokio::time::sleep(Duration::from_millis(30 + rng.below(570))).await;
        dp.kill();
        for t in tasks {
            let _ = t.await;
        }
    }
    let dp = DataPlane::start_ready(dir.path(), &opts)
        .await
        .expect("final start");
    let a = acked.lock().await;
    verify(&dp, &a).await;
    let info = dp.client.get_collection("crash").await.expect("get");
    eprintln!(
        "crash test: {rounds} SIGKILLs, {} acknowledged live records, {} acknowledged deletes, {} uncertain",
        a.live.len(),
        a.deleted.len(),
        a.uncertain
    );
    assert!(
        a.live.len() >= rounds * 20,
        "too few acknowledged writes to mean anything"
    );
    assert!(
        !a.deleted.is_empty(),
        "no acknowledged deletes were exercised"
    );
    let n = info.records as usize;
    assert!(
        n >= a.live.len() && n <= a.live.len() + a.uncertain,
        "{n} records, {} acknowledged live, {} uncertain",
        a.live.len(),
        a.uncertain
    );
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill_with_fsync_always() {
    let opts = Options {
        env: vec![("AKIDB_STORAGE__MAX_SEGMENT_ROWS".into(), "300".into())],
        ..Default::default()
    };
    run_rounds(12, 7, opts).await;
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill_with_group_commit() {
    let dir = temp_dir();
    let cfg = dir.path().join("akidb.toml");
    std::fs::write(&cfg, "[storage]\nfsync = { group_commit_ms = 5 }\nmax_segment_rows = 500\nwal_segment_bytes = 65536\n")
        .expect("config");
    let opts = Options {
        config: Some(cfg),
        ..Default::default()
    };
    run_rounds(12, 8, opts).await;
}
