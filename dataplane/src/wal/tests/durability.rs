//! Fsync policies, group commit and failure propagation.

use std::{
    collections::BTreeSet,
    sync::{atomic::Ordering, mpsc, Arc},
    time::Duration,
};

use tempfile::TempDir;
use tokio::time::timeout;

use super::super::{FsyncPolicy, Wal, WalError, WalOptions};
use super::{collect, expected, fill, opts, payload};

/// Safety net so a bug fails the test instead of hanging it; not used for ordering.
const LIMIT: Duration = Duration::from_secs(60);

fn group(ms: u64) -> WalOptions {
    opts(1 << 20, FsyncPolicy::GroupCommit { interval_ms: ms })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn group_commit_concurrent_tasks_all_become_durable() {
    let tmp = TempDir::new().unwrap();
    let wal = Arc::new(
        Wal::open(
            tmp.path(),
            opts(4096, FsyncPolicy::GroupCommit { interval_ms: 2 }),
            0,
        )
        .unwrap(),
    );
    let (tasks, per_task) = (8u64, 50u64);
    let total = tasks * per_task;

    // Every observed durable lsn must be >= the previous one.
    let mut rx = wal.shared.durable.subscribe();
    let monitor = tokio::spawn(async move {
        let mut prev = 0;
        loop {
            let lsn = rx.borrow_and_update().lsn;
            assert!(lsn >= prev, "durable lsn went back from {prev} to {lsn}");
            prev = lsn;
            if lsn >= total {
                return prev;
            }
            rx.changed().await.unwrap();
        }
    });

    let mut handles = Vec::new();
    for t in 0..tasks {
        let wal = Arc::clone(&wal);
        handles.push(tokio::spawn(async move {
            let mut lsns = Vec::new();
            for i in 0..per_task {
                let w = Arc::clone(&wal);
                let body = format!("t{t}-{i}").into_bytes();
                let lsn = tokio::task::spawn_blocking(move || w.append(&body))
                    .await
                    .unwrap()
                    .unwrap();
                wal.wait_durable(lsn).await.unwrap();
                assert!(wal.last_durable_lsn() >= lsn);
                lsns.push(lsn);
            }
            lsns
        }));
    }
    let mut all = BTreeSet::new();
    for h in handles {
        let lsns = timeout(LIMIT, h).await.unwrap().unwrap();
        assert!(
            lsns.windows(2).all(|w| w[0] < w[1]),
            "per-task lsns increase"
        );
        all.extend(lsns);
    }
    assert_eq!(all, (1..=total).collect::<BTreeSet<_>>());
    assert!(timeout(LIMIT, monitor).await.unwrap().unwrap() >= total);
    assert_eq!(wal.last_durable_lsn(), total);
    let replayed = {
        let mut n = 0;
        wal.replay(0, |_, _| {
            n += 1;
            Ok::<(), std::convert::Infallible>(())
        })
        .unwrap();
        n
    };
    assert_eq!(replayed, total);
}

#[test]
fn group_commit_from_plain_threads() {
    let tmp = TempDir::new().unwrap();
    let wal = Arc::new(Wal::open(tmp.path(), group(1), 0).unwrap());
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let wal = Arc::clone(&wal);
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                (0..25)
                    .map(|_| {
                        let lsn = wal.append(b"from a thread").unwrap();
                        rt.block_on(async { timeout(LIMIT, wal.wait_durable(lsn)).await })
                            .unwrap()
                            .unwrap();
                        lsn
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (1..=100).collect::<Vec<_>>());
    assert_eq!(wal.last_durable_lsn(), 100);
}

#[tokio::test]
async fn group_commit_fsync_failure_reaches_waiters() {
    let tmp = TempDir::new().unwrap();
    let wal = Wal::open(tmp.path(), group(1), 0).unwrap();
    let ok = wal.append(b"durable").unwrap();
    timeout(LIMIT, wal.wait_durable(ok)).await.unwrap().unwrap();

    // Armed before the append, so the very next fsync (which must cover it) fails.
    wal.shared.inject_sync_failure.store(true, Ordering::SeqCst);
    let lsn = wal.append(b"lost").unwrap();
    let err = timeout(LIMIT, wal.wait_durable(lsn))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, WalError::Sync { .. }), "{err:?}");
    assert_eq!(
        wal.last_durable_lsn(),
        ok,
        "undurable write reported durable"
    );
    // Already-durable lsns stay fine; everything else is refused from now on.
    wal.wait_durable(ok).await.unwrap();
    assert!(matches!(
        wal.append(b"more"),
        Err(WalError::Poisoned { .. })
    ));
    assert!(matches!(wal.sync(), Err(WalError::Poisoned { .. })));
    assert!(matches!(
        wal.wait_durable(lsn).await,
        Err(WalError::Sync { .. })
    ));
}

#[tokio::test]
async fn always_policy_is_durable_on_return() {
    let tmp = TempDir::new().unwrap();
    let wal = Wal::open(tmp.path(), WalOptions::default(), 0).unwrap();
    for i in 1..=5 {
        assert_eq!(wal.append(&payload(i)).unwrap(), i);
        assert_eq!(wal.last_durable_lsn(), i);
        wal.wait_durable(i).await.unwrap();
    }
    wal.shared.inject_sync_failure.store(true, Ordering::SeqCst);
    assert!(matches!(wal.append(b"x"), Err(WalError::Sync { .. })));
    assert_eq!(wal.last_durable_lsn(), 5);
    assert!(matches!(wal.append(b"y"), Err(WalError::Poisoned { .. })));
}

#[tokio::test]
async fn never_policy_replays_after_clean_drop() {
    let tmp = TempDir::new().unwrap();
    let o = opts(300, FsyncPolicy::Never);
    let wal = fill(tmp.path(), o.clone(), 40);
    wal.wait_durable(40).await.unwrap();
    drop(wal);
    let wal = Wal::open(tmp.path(), o, 0).unwrap();
    assert_eq!(collect(&wal, 0), expected(1..=40));
    assert_eq!(wal.last_durable_lsn(), 40, "open fsyncs what it found");
    let lsn = wal.append(b"late").unwrap();
    assert!(wal.last_durable_lsn() < lsn);
    wal.sync().unwrap();
    assert_eq!(wal.last_durable_lsn(), lsn);
}

#[tokio::test]
async fn wait_durable_rejects_unassigned_lsn() {
    let tmp = TempDir::new().unwrap();
    let wal = Wal::open(tmp.path(), group(5), 0).unwrap();
    assert!(matches!(
        wal.wait_durable(1).await,
        Err(WalError::LsnNotAssigned {
            lsn: 1,
            next_lsn: 1
        })
    ));
    wal.wait_durable(0).await.unwrap();
}

#[test]
fn drop_stops_group_commit_thread_and_flushes() {
    let tmp = TempDir::new().unwrap();
    // An hour-long interval: only the stop signal can end the thread promptly.
    let wal = Wal::open(tmp.path(), group(3_600_000), 0).unwrap();
    let lsn = wal.append(b"pending").unwrap();
    let shared = Arc::clone(&wal.shared);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        drop(wal);
        let _ = tx.send(());
    });
    rx.recv_timeout(LIMIT)
        .expect("Wal::drop did not stop the syncer");
    assert_eq!(shared.durable.borrow().lsn, lsn, "final fsync on shutdown");
    assert_eq!(
        Arc::strong_count(&shared),
        1,
        "syncer thread released its handle"
    );
}
