//! Open-time recovery: torn tails are cut, corruption anywhere else is an error.

use std::{
    fs::{self, OpenOptions},
    io::Write,
    path::{Path, PathBuf},
};

use tempfile::TempDir;

use super::super::{record, FsyncPolicy, Wal, WalError, WalOptions};
use super::{collect, expected, fill, name_lsn, opts, payload, seg_files};

/// Start offsets of the records in a segment file, by walking the length fields.
fn record_offsets(path: &Path) -> Vec<u64> {
    let bytes = fs::read(path).unwrap();
    let mut offsets = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        offsets.push(at as u64);
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        at += 16 + len;
    }
    assert_eq!(at, bytes.len(), "test helper expects a clean file");
    offsets
}

fn flip_byte(path: &Path, at: u64) {
    let mut bytes = fs::read(path).unwrap();
    bytes[at as usize] ^= 0xFF;
    fs::write(path, bytes).unwrap();
}

fn append_bytes(path: &Path, extra: &[u8]) {
    let mut f = OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(extra).unwrap();
}

fn xorshift_bytes(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

fn single_file_log(tmp: &TempDir, n: u64) -> PathBuf {
    drop(fill(tmp.path(), WalOptions::default(), n));
    let files = seg_files(tmp.path());
    assert_eq!(files.len(), 1);
    files[0].clone()
}

fn expect_corrupt(dir: &Path, o: WalOptions) -> (PathBuf, u64, String) {
    match Wal::open(dir, o, 0) {
        Err(WalError::Corrupt {
            file,
            offset,
            reason,
        }) => (file, offset, reason),
        Err(other) => panic!("expected Corrupt, got {other:?}"),
        Ok(_) => panic!("expected Corrupt, open succeeded"),
    }
}

/// Reopen after a cut: the log must continue at `next` and survive another reopen.
fn assert_continues(dir: &Path, next: u64) {
    let wal = Wal::open(dir, WalOptions::default(), 0).unwrap();
    assert_eq!(wal.append(b"replacement").unwrap(), next);
    assert_eq!(wal.append(&payload(next + 1)).unwrap(), next + 1);
    drop(wal);
    let wal = Wal::open(dir, WalOptions::default(), 0).unwrap();
    assert!(wal.recovered_tail().is_none());
    let mut want = expected(1..next);
    want.push((next, b"replacement".to_vec()));
    want.push((next + 1, payload(next + 1)));
    assert_eq!(collect(&wal, 0), want);
}

#[test]
fn torn_tail_is_cut_at_any_offset() {
    let n = 6;
    let probe = TempDir::new().unwrap();
    let file = single_file_log(&probe, n);
    let last = *record_offsets(&file).last().unwrap();
    let end = fs::metadata(&file).unwrap().len();
    // Inside the header, right after it, inside the payload, one byte short.
    for cut in [last + 1, last + 8, last + 15, last + 16, last + 17, end - 1] {
        let tmp = TempDir::new().unwrap();
        let file = single_file_log(&tmp, n);
        OpenOptions::new()
            .write(true)
            .open(&file)
            .unwrap()
            .set_len(cut)
            .unwrap();

        let wal = Wal::open(tmp.path(), WalOptions::default(), 0).unwrap();
        let tail = wal.recovered_tail().expect("tail should be cut").clone();
        assert_eq!(
            (tail.file.as_path(), tail.offset),
            (file.as_path(), last),
            "cut {cut}"
        );
        assert_eq!(tail.dropped_bytes, cut - last);
        assert_eq!(fs::metadata(&file).unwrap().len(), last);
        assert_eq!(collect(&wal, 0), expected(1..n));
        assert_eq!(wal.next_lsn(), n);
        drop(wal);
        assert_continues(tmp.path(), n);
    }
}

#[test]
fn cut_on_record_boundary_is_clean() {
    let tmp = TempDir::new().unwrap();
    let file = single_file_log(&tmp, 6);
    let last = *record_offsets(&file).last().unwrap();
    OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(last)
        .unwrap();
    let wal = Wal::open(tmp.path(), WalOptions::default(), 0).unwrap();
    assert!(wal.recovered_tail().is_none());
    assert_eq!(collect(&wal, 0), expected(1..6));
}

#[test]
fn garbage_tail_is_cut() {
    for (name, junk) in [
        ("random", xorshift_bytes(5000, 0x9E37_79B9_7F4A_7C15)),
        ("zeros", vec![0u8; 4096]),
    ] {
        let tmp = TempDir::new().unwrap();
        let file = single_file_log(&tmp, 20);
        let clean_len = fs::metadata(&file).unwrap().len();
        append_bytes(&file, &junk);

        let wal = Wal::open(tmp.path(), WalOptions::default(), 0).unwrap();
        let tail = wal.recovered_tail().expect(name);
        assert_eq!(tail.offset, clean_len, "{name}");
        assert_eq!(tail.dropped_bytes, junk.len() as u64, "{name}");
        assert_eq!(collect(&wal, 0), expected(1..=20), "{name}");
        drop(wal);
        assert_continues(tmp.path(), 21);
    }
}

#[test]
fn flipped_byte_in_middle_record_is_corrupt() {
    // Length (low and high byte), checksum, lsn and payload bytes of record 3 of 10.
    for delta in [0u64, 3, 5, 9, 20] {
        let tmp = TempDir::new().unwrap();
        let file = single_file_log(&tmp, 10);
        let third = record_offsets(&file)[2];
        let len_before = fs::metadata(&file).unwrap().len();
        flip_byte(&file, third + delta);

        let (f, offset, reason) = expect_corrupt(tmp.path(), WalOptions::default());
        assert_eq!(
            (f, offset),
            (file.clone(), third),
            "delta {delta}: {reason}"
        );
        assert_eq!(
            fs::metadata(&file).unwrap().len(),
            len_before,
            "must not truncate"
        );
    }
}

#[test]
fn flipped_byte_in_final_record_is_a_torn_tail() {
    let tmp = TempDir::new().unwrap();
    let file = single_file_log(&tmp, 10);
    let last = *record_offsets(&file).last().unwrap();
    flip_byte(&file, last + 5);
    let wal = Wal::open(tmp.path(), WalOptions::default(), 0).unwrap();
    assert_eq!(wal.recovered_tail().map(|t| t.offset), Some(last));
    assert_eq!(collect(&wal, 0), expected(1..10));
}

#[test]
fn damage_in_a_sealed_segment_is_corrupt() {
    let o = opts(200, FsyncPolicy::Always);
    // A flipped byte in the LAST record of the first segment: still corruption, because
    // later segments follow. Same for a sealed segment that lost its final bytes.
    for truncate in [false, true] {
        let tmp = TempDir::new().unwrap();
        drop(fill(tmp.path(), o.clone(), 40));
        let first = seg_files(tmp.path())[0].clone();
        let last = *record_offsets(&first).last().unwrap();
        let len = fs::metadata(&first).unwrap().len();
        if truncate {
            OpenOptions::new()
                .write(true)
                .open(&first)
                .unwrap()
                .set_len(len - 1)
                .unwrap();
        } else {
            flip_byte(&first, len - 1);
        }
        let (f, offset, _) = expect_corrupt(tmp.path(), o.clone());
        assert_eq!((f, offset), (first, last), "truncate={truncate}");
    }
}

#[test]
fn missing_middle_segment_is_corrupt() {
    let o = opts(200, FsyncPolicy::Always);
    let tmp = TempDir::new().unwrap();
    drop(fill(tmp.path(), o.clone(), 40));
    let files = seg_files(tmp.path());
    assert!(files.len() >= 3);
    fs::remove_file(&files[1]).unwrap();
    let (f, offset, reason) = expect_corrupt(tmp.path(), o);
    assert_eq!((f, offset), (files[2].clone(), 0), "{reason}");
}

#[test]
fn lsn_discontinuity_is_corrupt_even_with_valid_checksum() {
    for bad_lsn in [12u64, 10, 0] {
        let tmp = TempDir::new().unwrap();
        let file = single_file_log(&tmp, 10);
        let end = fs::metadata(&file).unwrap().len();
        append_bytes(&file, &record::encode(bad_lsn, b"out of order"));
        let (f, offset, reason) = expect_corrupt(tmp.path(), WalOptions::default());
        assert_eq!((f, offset), (file, end), "lsn {bad_lsn}");
        assert!(reason.contains("expected lsn 11"), "{reason}");
    }
}

#[test]
fn segment_names_match_first_lsn_after_recovery() {
    let o = opts(200, FsyncPolicy::Always);
    let tmp = TempDir::new().unwrap();
    drop(fill(tmp.path(), o.clone(), 40));
    let last = seg_files(tmp.path()).pop().unwrap();
    // Tear the active segment down to nothing: the log resumes at its name.
    OpenOptions::new()
        .write(true)
        .open(&last)
        .unwrap()
        .set_len(3)
        .unwrap();
    let wal = Wal::open(tmp.path(), o, 0).unwrap();
    assert_eq!(wal.next_lsn(), name_lsn(&last));
    assert_eq!(collect(&wal, 0), expected(1..name_lsn(&last)));
}
