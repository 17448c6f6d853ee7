//! Restarts: a graceful stop persists segments so the next start loads serialized indexes and
//! replays nothing; a SIGKILL leaves the WAL to replay.

use std::collections::HashMap;

use akidb_client::*;
use akidb_testkit::data::{clustered, records};
use akidb_testkit::{temp_dir, DataPlane, Options};

const DIM: usize = 8;

async fn seed(dp: &DataPlane, n: usize) -> HashMap<String, Vec<f32>> {
    dp.client
        .create_collection(&CreateCollection {
            name: "r".into(),
            dimension: DIM as u32,
            metric: Metric::L2,
            index: IndexSpec::Hnsw {
                m: 16,
                ef_construction: 64,
                ef_search: 64,
            },
            tiering: Tiering::Memory,
        })
        .await
        .expect("create");
    let recs = records(&clustered(n, DIM, 5, 3), DIM, 0);
    for chunk in recs.chunks(500) {
        dp.client.upsert("r", chunk.to_vec()).await.expect("upsert");
    }
    let ids: Vec<String> = (0..n).step_by(7).map(|i| format!("r{i}")).collect();
    dp.client
        .delete(
            "r",
            &DeleteRequest {
                ids: Some(ids.clone()),
                filter: None,
            },
        )
        .await
        .expect("delete");
    recs.into_iter()
        .filter(|r| !ids.contains(&r.id))
        .map(|r| (r.id, r.vector))
        .collect()
}

async fn verify(dp: &DataPlane, want: &HashMap<String, Vec<f32>>, n: usize) {
    let info = dp.client.get_collection("r").await.expect("get");
    assert_eq!(info.records as usize, want.len());
    for i in 0..n {
        let id = format!("r{i}");
        match (want.get(&id), dp.client.get_record("r", &id).await) {
            (Some(v), Ok(r)) => assert_eq!(&r.vector, v, "{id} changed"),
            (None, Err(e)) => assert_eq!(e.code(), Some("record_not_found")),
            (w, g) => panic!("{id}: wanted {:?}, got {:?}", w.is_some(), g.map(|r| r.id)),
        }
    }
    let q = QueryRequest::new(want["r1"].clone(), 1);
    assert_eq!(
        dp.client.query("r", &q).await.expect("query").results[0].id,
        "r1"
    );
}

#[tokio::test]
async fn graceful_restart_loads_segments_without_replay_or_rebuild() {
    let dir = temp_dir();
    let dp = DataPlane::start_ready(dir.path(), &Options::default())
        .await
        .expect("start");
    let want = seed(&dp, 3000).await;
    assert!(dp.terminate().expect("sigterm"), "graceful stop exits 0");
    let dp = DataPlane::start_ready(dir.path(), &Options::default())
        .await
        .expect("restart");
    verify(&dp, &want, 3000).await;
    let log = std::fs::read_to_string(dir.path().join("server.log")).expect("log");
    let replays: Vec<&str> = log.lines().filter(|l| l.contains("wal replayed")).collect();
    assert!(
        replays.last().is_some_and(|l| l.contains("records: 0")),
        "after a graceful stop nothing is left to replay: {replays:?}"
    );
    assert_eq!(
        dp.client.get_collection("r").await.expect("get").segments,
        2,
        "one sealed + one growing"
    );
}

#[tokio::test]
async fn restart_after_sigkill_replays_the_wal() {
    let dir = temp_dir();
    let mut dp = DataPlane::start_ready(dir.path(), &Options::default())
        .await
        .expect("start");
    let want = seed(&dp, 2000).await;
    dp.kill();
    let mut dp = DataPlane::start_ready(dir.path(), &Options::default())
        .await
        .expect("restart");
    verify(&dp, &want, 2000).await;
    // And once more after a flush + kill: segments plus a truncated WAL.
    dp.client.flush().await.expect("flush");
    dp.kill();
    let dp = DataPlane::start_ready(dir.path(), &Options::default())
        .await
        .expect("restart 2");
    verify(&dp, &want, 2000).await;
}

#[tokio::test]
async fn corrupt_wal_middle_stops_startup_with_a_clear_error() {
    let dir = temp_dir();
    let mut dp = DataPlane::start_ready(dir.path(), &Options::default())
        .await
        .expect("start");
    seed(&dp, 600).await;
    dp.kill();
    let wal_dir = dir.path().join("wal").join("r");
    let file = std::fs::read_dir(&wal_dir)
        .expect("wal dir")
        .flatten()
        .map(|e| e.path())
        .max()
        .expect("a wal file");
    let mut bytes = std::fs::read(&file).expect("read");
    bytes[40] ^= 0xff; // inside the first record, which is followed by valid ones
    std::fs::write(&file, bytes).expect("write");
    let mut dp = DataPlane::start(dir.path(), &Options::default()).expect("spawn");
    let err = dp
        .wait_ready(std::time::Duration::from_secs(20))
        .await
        .expect_err("must not become ready");
    let log = dp.log_tail();
    assert!(
        log.contains("corrupt") || err.contains("corrupt"),
        "error names the corruption: {log}"
    );
}
