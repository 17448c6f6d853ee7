//! Segment files on disk and the open-time scan that validates them and cuts a torn tail.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, BufReader, Read, Seek, SeekFrom},
    path::{Path, PathBuf},
};

use super::{
    record::{self, Next, RecordReader},
    WalError,
};

/// A segment file and how many valid bytes it holds.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub first_lsn: u64,
    pub path: PathBuf,
    pub len: u64,
}

/// Where a torn tail was cut off during `Wal::open`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruncatedTail {
    pub file: PathBuf,
    /// New length of the file: the offset of the first invalid byte.
    pub offset: u64,
    pub dropped_bytes: u64,
    pub reason: String,
}

pub(crate) struct Recovered {
    pub segments: Vec<Segment>,
    /// Lsn following the last record on disk; for an empty last file, its name.
    pub end_lsn: Option<u64>,
    pub tail: Option<TruncatedTail>,
}

pub(crate) fn segment_path(dir: &Path, first_lsn: u64) -> PathBuf {
    dir.join(format!("{first_lsn:020}.wal"))
}

fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".wal")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

pub(crate) fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), WalError> {
    fsync_dir(dir).map_err(|source| WalError::SyncDir {
        dir: dir.to_path_buf(),
        source,
    })
}

/// Creates `dir` if missing, fsyncing its parent so the new directory entry is durable.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), WalError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(|source| WalError::CreateDir {
        dir: dir.to_path_buf(),
        source,
    })?;
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_dir(parent),
        _ => Ok(()),
    }
}

/// Creates (or reopens an empty leftover of) the segment starting at `first_lsn`, in
/// append mode so a write after a truncate-to-undo lands at the true end of file.
pub(crate) fn create_segment(dir: &Path, first_lsn: u64) -> Result<(PathBuf, File), WalError> {
    let path = segment_path(dir, first_lsn);
    let open_err = |source| WalError::OpenSegment {
        file: path.clone(),
        source,
    };
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(open_err)?;
    let len = file.metadata().map_err(open_err)?.len();
    if len != 0 {
        return Err(WalError::Corrupt {
            file: path,
            offset: 0,
            reason: format!("new segment file already exists with {len} bytes"),
        });
    }
    Ok((path, file))
}

/// Segment files in replay order. Files not named like a segment are ignored.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, WalError> {
    let list_err = |source| WalError::ListDir {
        dir: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(list_err)? {
        let entry = entry.map_err(list_err)?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        match parse_segment_name(name) {
            Some(lsn) if entry.file_type().map_err(list_err)?.is_file() => {
                out.push((lsn, entry.path()));
            }
            _ if name.ends_with(".wal") => {
                tracing::warn!(file = %entry.path().display(), "ignoring misnamed WAL file");
            }
            _ => {}
        }
    }
    out.sort_unstable_by_key(|(lsn, _)| *lsn);
    Ok(out)
}

/// Result of reading one segment front to back.
pub(crate) struct Scan {
    /// Lsn the next record would need.
    pub end_lsn: u64,
    /// Bytes up to the end of the last valid record.
    pub valid_len: u64,
    pub records: u64,
    /// First invalid record: `(offset, reason)`.
    pub bad: Option<(u64, String)>,
}

/// Reads the first `limit` bytes (default: whole file) of a segment, checking that lsns
/// run from `first_lsn` upwards by one and handing each record to `on_record`.
/// A checksum-valid record with the wrong lsn is always `Corrupt`: no torn write makes one.
pub(crate) fn scan_segment(
    path: &Path,
    first_lsn: u64,
    limit: Option<u64>,
    mut on_record: impl FnMut(u64, &[u8]) -> Result<(), WalError>,
) -> Result<Scan, WalError> {
    let read_err = |source| WalError::ReadSegment {
        file: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(|source| WalError::OpenSegment {
        file: path.to_path_buf(),
        source,
    })?;
    let end = match limit {
        Some(l) => l,
        None => file.metadata().map_err(read_err)?.len(),
    };
    let mut reader = RecordReader::new(BufReader::with_capacity(1 << 20, file), end);
    let mut payload = Vec::new();
    let mut expected = first_lsn;
    let mut records = 0;
    loop {
        let bad = match reader.read_next(&mut payload).map_err(read_err)? {
            Next::End => None,
            Next::Bad { offset, reason } => Some((offset, reason)),
            Next::Record { offset, lsn } => {
                if lsn != expected {
                    return Err(WalError::Corrupt {
                        file: path.to_path_buf(),
                        offset,
                        reason: format!("expected lsn {expected}, found {lsn}"),
                    });
                }
                on_record(lsn, &payload)?;
                expected = expected.saturating_add(1);
                records += 1;
                continue;
            }
        };
        return Ok(Scan {
            end_lsn: expected,
            valid_len: reader.offset(),
            records,
            bad,
        });
    }
}

/// Validates every segment and cuts a torn tail off the last one (see the module doc).
pub(crate) fn recover(dir: &Path) -> Result<Recovered, WalError> {
    let files = list_segments(dir)?;
    let count = files.len();
    let mut segments = Vec::with_capacity(count);
    let mut prev_end: Option<u64> = None;
    let mut tail = None;
    for (i, (first_lsn, path)) in files.into_iter().enumerate() {
        let is_last = i + 1 == count;
        let corrupt = |offset, reason| WalError::Corrupt {
            file: path.clone(),
            offset,
            reason,
        };
        if let Some(end) = prev_end.filter(|end| *end != first_lsn) {
            return Err(corrupt(
                0,
                format!(
                    "segment starts at lsn {first_lsn} but the previous one ends before lsn {end}"
                ),
            ));
        }
        let mut scan = scan_segment(&path, first_lsn, None, |_, _| Ok(()))?;
        if let Some((offset, reason)) = scan.bad.take() {
            if !is_last {
                return Err(corrupt(
                    offset,
                    format!("{reason} (not in the last segment)"),
                ));
            }
            if valid_record_follows(&path, offset, scan.end_lsn)? {
                return Err(corrupt(offset, format!("{reason}; valid records follow")));
            }
            tail = Some(cut_tail(&path, offset, reason)?);
        } else if scan.records == 0 && !is_last {
            return Err(corrupt(0, "empty segment that is not the last one".into()));
        }
        prev_end = Some(scan.end_lsn);
        segments.push(Segment {
            first_lsn,
            path,
            len: scan.valid_len,
        });
    }
    Ok(Recovered {
        segments,
        end_lsn: prev_end,
        tail,
    })
}

fn valid_record_follows(path: &Path, offset: u64, expected_lsn: u64) -> Result<bool, WalError> {
    let read_err = |source| WalError::ReadSegment {
        file: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(|source| WalError::OpenSegment {
        file: path.to_path_buf(),
        source,
    })?;
    file.seek(SeekFrom::Start(offset)).map_err(read_err)?;
    let mut rest = Vec::new();
    file.read_to_end(&mut rest).map_err(read_err)?;
    Ok(record::valid_record_after(&rest, expected_lsn))
}

fn cut_tail(path: &Path, offset: u64, reason: String) -> Result<TruncatedTail, WalError> {
    let trunc_err = |source| WalError::Truncate {
        file: path.to_path_buf(),
        source,
    };
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(trunc_err)?;
    let old_len = file.metadata().map_err(trunc_err)?.len();
    file.set_len(offset).map_err(trunc_err)?;
    file.sync_all().map_err(trunc_err)?;
    let dropped_bytes = old_len.saturating_sub(offset);
    tracing::warn!(
        file = %path.display(),
        offset,
        dropped_bytes,
        %reason,
        "truncating torn WAL tail"
    );
    Ok(TruncatedTail {
        file: path.to_path_buf(),
        offset,
        dropped_bytes,
        reason,
    })
}
