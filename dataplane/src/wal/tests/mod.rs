//! Unit tests. Helpers live here; recovery and durability tests in the submodules.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::{
    convert::Infallible,
    fs,
    path::{Path, PathBuf},
};

use tempfile::TempDir;

use super::*;

mod durability;
mod recovery;

pub(super) fn opts(segment_bytes: u64, fsync: FsyncPolicy) -> WalOptions {
    WalOptions {
        segment_bytes,
        fsync,
    }
}

/// Deterministic payloads of varying size, including empty ones.
pub(super) fn payload(i: u64) -> Vec<u8> {
    format!("payload-{i}-")
        .repeat((i % 4) as usize)
        .into_bytes()
}

pub(super) fn collect(wal: &Wal, from: u64) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    wal.replay(from, |lsn, p| {
        out.push((lsn, p.to_vec()));
        Ok::<(), Infallible>(())
    })
    .unwrap();
    out
}

pub(super) fn expected(lsns: impl IntoIterator<Item = u64>) -> Vec<(u64, Vec<u8>)> {
    lsns.into_iter().map(|l| (l, payload(l))).collect()
}

pub(super) fn seg_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    files.sort();
    files
}

pub(super) fn name_lsn(path: &Path) -> u64 {
    path.file_stem().unwrap().to_str().unwrap().parse().unwrap()
}

/// Opens a WAL in `dir` and appends `payload(lsn)` for lsns 1..=n.
pub(super) fn fill(dir: &Path, o: WalOptions, n: u64) -> Wal {
    let wal = Wal::open(dir, o, 0).unwrap();
    for i in 1..=n {
        assert_eq!(wal.append(&payload(i)).unwrap(), i);
    }
    wal
}

#[test]
fn append_reopen_replay_roundtrip() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("wal");
    let wal = fill(&dir, WalOptions::default(), 100);
    assert_eq!(wal.next_lsn(), 101);
    assert_eq!(wal.last_durable_lsn(), 100);
    drop(wal);

    let wal = Wal::open(&dir, WalOptions::default(), 0).unwrap();
    assert!(wal.recovered_tail().is_none());
    assert_eq!(wal.next_lsn(), 101);
    assert_eq!(wal.last_durable_lsn(), 100);
    let mut got = Vec::new();
    let stats = wal
        .replay(0, |lsn, p| {
            got.push((lsn, p.to_vec()));
            Ok::<(), Infallible>(())
        })
        .unwrap();
    assert_eq!(got, expected(1..=100));
    assert_eq!(stats.records, 100);
    assert_eq!(stats.first_lsn, Some(1));
    assert_eq!(stats.last_lsn, Some(100));
    let bytes: u64 = got.iter().map(|(_, p)| p.len() as u64).sum();
    assert_eq!(stats.payload_bytes, bytes);
    assert_eq!(wal.bytes_on_disk(), bytes + 100 * 16);
    assert_eq!(wal.append(b"next").unwrap(), 101);
}

#[test]
fn replay_from_lsn() {
    let tmp = TempDir::new().unwrap();
    let wal = fill(tmp.path(), opts(300, FsyncPolicy::Never), 80);
    assert_eq!(collect(&wal, 40), expected(40..=80));
    assert_eq!(collect(&wal, 80), expected(80..=80));
    assert!(collect(&wal, 81).is_empty());
    let stats = wal.replay(75, |_, _| Ok::<(), Infallible>(())).unwrap();
    assert_eq!(stats.records, 6);
    assert!(stats.segments_read < seg_files(tmp.path()).len());
}

#[test]
fn rotation_spans_files_and_replay_crosses_them() {
    let tmp = TempDir::new().unwrap();
    let seg = 200;
    let wal = fill(tmp.path(), opts(seg, FsyncPolicy::Always), 60);
    let files = seg_files(tmp.path());
    assert!(files.len() > 3, "only {} files", files.len());
    let mut total = 0;
    for (i, f) in files.iter().enumerate() {
        let bytes = fs::read(f).unwrap();
        total += bytes.len() as u64;
        let header_lsn = u64::from_le_bytes(bytes[8..16].try_into().unwrap());
        assert_eq!(header_lsn, name_lsn(f), "first record of {f:?}");
        if i + 1 < files.len() {
            assert!(bytes.len() as u64 >= seg, "sealed {f:?} too small");
        }
    }
    assert_eq!(wal.bytes_on_disk(), total);
    drop(wal);
    let wal = Wal::open(tmp.path(), opts(seg, FsyncPolicy::Always), 0).unwrap();
    assert_eq!(collect(&wal, 0), expected(1..=60));
    assert_eq!(wal.append(b"x").unwrap(), 61);
}

#[test]
fn truncate_before_removes_exactly_covered_files() {
    let tmp = TempDir::new().unwrap();
    let o = opts(400, FsyncPolicy::Always);
    let wal = fill(tmp.path(), o.clone(), 120);
    let files = seg_files(tmp.path());
    assert!(files.len() >= 5);
    let firsts: Vec<u64> = files.iter().map(|f| name_lsn(f)).collect();

    assert_eq!(wal.truncate_before(firsts[2]).unwrap(), 2);
    assert_eq!(seg_files(tmp.path()), files[2..]);
    assert_eq!(wal.truncate_before(firsts[2]).unwrap(), 0);
    // File 2 still holds lsn firsts[3] - 1.
    assert_eq!(wal.truncate_before(firsts[3] - 1).unwrap(), 0);
    assert_eq!(wal.truncate_before(firsts[3]).unwrap(), 1);
    let size: u64 = seg_files(tmp.path())
        .iter()
        .map(|f| f.metadata().unwrap().len())
        .sum();
    assert_eq!(wal.bytes_on_disk(), size);

    // Never removes the active file, even if everything is below `lsn`.
    let removed = wal.truncate_before(u64::MAX).unwrap();
    assert_eq!(removed, files.len() - 4);
    assert_eq!(seg_files(tmp.path()), [files.last().unwrap().clone()]);
    drop(wal);

    let wal = Wal::open(tmp.path(), o, 0).unwrap();
    assert_eq!(wal.next_lsn(), 121);
    assert_eq!(collect(&wal, 0), expected(*firsts.last().unwrap()..=120));
    assert_eq!(wal.append(b"after").unwrap(), 121);
}

#[test]
fn floor_applies_when_all_files_are_gone() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("c1");
    drop(fill(&dir, WalOptions::default(), 10));
    fs::remove_dir_all(&dir).unwrap();

    let wal = Wal::open(&dir, WalOptions::default(), 77).unwrap();
    assert_eq!(wal.next_lsn(), 77);
    assert!(collect(&wal, 0).is_empty());
    assert_eq!(wal.append(&payload(77)).unwrap(), 77);
    drop(wal);

    // A floor below the end of the log is ignored.
    let wal = Wal::open(&dir, WalOptions::default(), 5).unwrap();
    assert_eq!(wal.next_lsn(), 78);
    assert_eq!(collect(&wal, 0), expected([77]));
}

#[test]
fn floor_above_log_end_drops_old_segments() {
    let tmp = TempDir::new().unwrap();
    let o = opts(200, FsyncPolicy::Always);
    drop(fill(tmp.path(), o.clone(), 30));
    let wal = Wal::open(tmp.path(), o.clone(), 500).unwrap();
    assert_eq!(wal.next_lsn(), 500);
    assert!(collect(&wal, 0).is_empty());
    assert_eq!(
        seg_files(tmp.path())
            .iter()
            .map(|f| name_lsn(f))
            .collect::<Vec<_>>(),
        [500]
    );
    assert_eq!(wal.append(b"a").unwrap(), 500);
    drop(wal);
    let wal = Wal::open(tmp.path(), o, 0).unwrap();
    assert_eq!(collect(&wal, 0), vec![(500, b"a".to_vec())]);
}

#[test]
fn oversized_payload_is_rejected() {
    let tmp = TempDir::new().unwrap();
    let wal = Wal::open(tmp.path(), WalOptions::default(), 0).unwrap();
    let big = vec![0u8; MAX_PAYLOAD_BYTES + 1];
    assert!(matches!(
        wal.append(&big),
        Err(WalError::PayloadTooLarge { len, max }) if len == MAX_PAYLOAD_BYTES + 1 && max == MAX_PAYLOAD_BYTES
    ));
    assert_eq!(wal.next_lsn(), 1);
    assert_eq!(wal.bytes_on_disk(), 0);
}

#[test]
fn invalid_options_are_rejected() {
    let tmp = TempDir::new().unwrap();
    for o in [
        opts(0, FsyncPolicy::Always),
        opts(1024, FsyncPolicy::GroupCommit { interval_ms: 0 }),
    ] {
        assert!(matches!(
            Wal::open(tmp.path(), o, 0),
            Err(WalError::InvalidOptions { .. })
        ));
    }
}

#[test]
fn replay_callback_error_is_carried() {
    #[derive(Debug, thiserror::Error)]
    #[error("stop")]
    struct Stop;
    let tmp = TempDir::new().unwrap();
    let wal = fill(tmp.path(), WalOptions::default(), 5);
    let err = wal
        .replay(0, |lsn, _| if lsn == 3 { Err(Stop) } else { Ok(()) })
        .unwrap_err();
    match err {
        WalError::Replay { lsn, source } => {
            assert_eq!(lsn, 3);
            assert!(source.downcast_ref::<Stop>().is_some());
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn options_serde_shape() {
    use serde::de::{
        value::{Error as DeError, MapAccessDeserializer, MapDeserializer, StrDeserializer},
        Deserialize,
    };
    let policy = |s| FsyncPolicy::deserialize(StrDeserializer::<DeError>::new(s));
    assert_eq!(policy("always").unwrap(), FsyncPolicy::Always);
    assert_eq!(policy("never").unwrap(), FsyncPolicy::Never);
    assert!(policy("sometimes").is_err());
    let map = |k: &'static str, v: u64| MapDeserializer::<_, DeError>::new([(k, v)].into_iter());
    assert_eq!(
        FsyncPolicy::deserialize(MapAccessDeserializer::new(map("group_commit_ms", 5))).unwrap(),
        FsyncPolicy::GroupCommit { interval_ms: 5 }
    );
    assert_eq!(
        WalOptions::deserialize(map("segment_bytes", 4096)).unwrap(),
        WalOptions {
            segment_bytes: 4096,
            fsync: FsyncPolicy::Always
        }
    );
    assert!(WalOptions::deserialize(map("segmnet_bytes", 4096)).is_err());
}

#[test]
fn wal_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Wal>();
    assert_send_sync::<WalError>();
}
