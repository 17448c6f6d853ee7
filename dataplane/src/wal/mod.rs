//! Per-collection write-ahead log.
//!
//! Every mutation is appended here (and made durable according to [`FsyncPolicy`]) before
//! it is acknowledged, so a crash loses nothing acknowledged: on restart the caller
//! replays the log on top of its last checkpoint, then calls [`Wal::truncate_before`]
//! once a newer checkpoint covers old records.
//!
//! # On-disk format
//!
//! One directory per collection holding segment files named `{first_lsn:020}.wal`, so a
//! plain sorted listing is replay order. Each segment is a sequence of records:
//!
//! ```text
//! [u32 LE payload_len][u32 LE crc32c(lsn_le_bytes ‖ payload)][u64 LE lsn][payload]
//! ```
//!
//! Payloads are opaque (the caller encodes them) and at most [`MAX_PAYLOAD_BYTES`]. LSNs
//! start at 1 (0 means "none"), are assigned by the WAL and rise by exactly 1 per record,
//! across segment boundaries too; a segment's first record has the lsn in its name.
//! `append` rotates to a new segment when the active one has reached
//! [`WalOptions::segment_bytes`]; the old one is fsynced first, so only the active
//! segment ever holds unsynced data.
//!
//! # Recovery rules ([`Wal::open`])
//!
//! Every segment is read and checksummed. The first invalid record (partial header,
//! length over the maximum or past end of file, checksum mismatch) is:
//! * a **torn tail**, if it is in the last segment and no checksum-valid record of this
//!   log follows it anywhere in that file: the file is truncated at that offset (with a
//!   `tracing::warn!` naming file and offset; see [`Wal::recovered_tail`]) and the log
//!   continues from there. This is what an interrupted unsynced write looks like, and
//!   such records were never reported durable.
//! * **corruption** otherwise (a later valid record exists, or the segment is not the
//!   last): [`WalError::Corrupt`] with file and offset. Also corruption: a valid record
//!   whose lsn is not previous + 1, a segment whose first lsn does not continue the
//!   previous one (a missing file), an empty segment that is not the last. Nothing is
//!   ever skipped silently: losing a middle record would replay a different history.
//!
//! The next lsn is `max(end of log, next_lsn_floor, 1)`. If the caller's floor lies
//! beyond the end of the log, every record on disk is below it — the caller's
//! manifest already accounts for them — so those segments are deleted and a fresh one
//! starts at the floor, keeping the "+1 everywhere" invariant that detects lost files.
//! The directory is created if missing and fsynced after files are created or removed.
//! Existing segments are fsynced at open, so everything replayed counts as durable.
//!
//! # Durability
//!
//! [`FsyncPolicy`] deserialises from `"always"`, `"never"` or `{ group_commit_ms = N }`;
//! [`WalOptions`] from e.g. `{ segment_bytes = 67108864, fsync = "always" }` (both fields
//! optional, unknown fields rejected). Under `GroupCommit` a background thread fsyncs
//! every interval and publishes the durable lsn through a `tokio::sync::watch` channel
//! that [`Wal::wait_durable`] awaits. A failed fsync poisons the WAL: waiters get
//! [`WalError::Sync`], later calls [`WalError::Poisoned`]; reopening re-reads from disk.

mod error;
mod options;
mod record;
mod recovery;
mod replay;
mod writer;

#[cfg(test)]
mod tests;

use std::{
    fs::{self, File, OpenOptions},
    path::Path,
    sync::{atomic::Ordering, Arc},
    thread::JoinHandle,
    time::Duration,
};

pub use error::{BoxError, WalError};
pub use options::{FsyncPolicy, WalOptions};
pub use record::MAX_PAYLOAD_BYTES;
pub use recovery::TruncatedTail;
pub use replay::ReplayStats;

use recovery::Segment;
use writer::{Shared, WriterState};

/// A collection's write-ahead log. `Send + Sync`; share it behind an `Arc`.
pub struct Wal {
    shared: Arc<Shared>,
    syncer: Option<JoinHandle<()>>,
    tail: Option<TruncatedTail>,
}

impl Wal {
    /// Opens (creating if needed) the WAL in `dir`, validating every segment and cutting a
    /// torn tail as described in the module doc.
    pub fn open(dir: &Path, opts: WalOptions, next_lsn_floor: u64) -> Result<Wal, WalError> {
        opts.validate()?;
        recovery::ensure_dir(dir)?;
        let recovered = recovery::recover(dir)?;
        let floor = next_lsn_floor.max(1);
        let mut segments = recovered.segments;
        let mut dir_changed = false;
        let next_lsn = match recovered.end_lsn {
            Some(end) if end >= floor => end,
            Some(end) => {
                tracing::warn!(dir = %dir.display(), end, floor, "WAL ends below the lsn floor; removing its segments");
                for seg in segments.drain(..) {
                    fs::remove_file(&seg.path).map_err(|source| WalError::RemoveSegment {
                        file: seg.path.clone(),
                        source,
                    })?;
                }
                dir_changed = true;
                floor
            }
            None => floor,
        };
        for seg in &segments {
            File::open(&seg.path)
                .and_then(|f| f.sync_data())
                .map_err(|e| WalError::Sync {
                    file: seg.path.clone(),
                    source: Arc::new(e),
                })?;
        }
        let (active, file) = match segments.pop() {
            Some(active) => {
                let file =
                    OpenOptions::new()
                        .append(true)
                        .open(&active.path)
                        .map_err(|source| WalError::OpenSegment {
                            file: active.path.clone(),
                            source,
                        })?;
                (active, file)
            }
            None => {
                let (path, file) = recovery::create_segment(dir, next_lsn)?;
                dir_changed = true;
                let seg = Segment {
                    first_lsn: next_lsn,
                    path,
                    len: 0,
                };
                (seg, file)
            }
        };
        if dir_changed {
            recovery::sync_dir(dir)?;
        }
        let state = WriterState {
            sealed: segments,
            active,
            file: Arc::new(file),
            next_lsn,
        };
        let shared = Arc::new(Shared::new(dir.to_path_buf(), opts, state));
        let syncer = match shared.opts.fsync {
            FsyncPolicy::GroupCommit { interval_ms } => Some(spawn_syncer(
                Arc::clone(&shared),
                Duration::from_millis(interval_ms),
            )?),
            FsyncPolicy::Always | FsyncPolicy::Never => None,
        };
        Ok(Wal {
            shared,
            syncer,
            tail: recovered.tail,
        })
    }

    /// Replays every record with lsn >= `from_lsn`, in order, calling `f(lsn, payload)`.
    /// Meant to run once after `open`, before appends (and not concurrently with
    /// `truncate_before`). A callback error aborts with [`WalError::Replay`].
    pub fn replay<F, E>(&self, from_lsn: u64, f: F) -> Result<ReplayStats, WalError>
    where
        F: FnMut(u64, &[u8]) -> Result<(), E>,
        E: Into<BoxError>,
    {
        let segments = self.shared.writer.lock().segments();
        replay::replay(&segments, from_lsn, f)
    }

    /// Appends one record and returns its lsn once the write syscall is done; under
    /// `Always` it is also fdatasync'ed. Blocking: call from a blocking thread.
    pub fn append(&self, payload: &[u8]) -> Result<u64, WalError> {
        self.shared.append(payload)
    }

    /// Resolves once `lsn` is durable under the policy: immediately for `Always` and
    /// `Never`; under `GroupCommit` after the next background fsync. Errors if an fsync
    /// failed before `lsn` became durable.
    pub async fn wait_durable(&self, lsn: u64) -> Result<(), WalError> {
        let next_lsn = self.next_lsn();
        if lsn >= next_lsn {
            return Err(WalError::LsnNotAssigned { lsn, next_lsn });
        }
        if self.shared.opts.fsync == FsyncPolicy::Never {
            return self.shared.failure().map_or(Ok(()), |f| Err(f.poisoned()));
        }
        let mut rx = self.shared.durable.subscribe();
        let failure = {
            let d = rx
                .wait_for(|d| d.lsn >= lsn || d.failure.is_some())
                .await
                .map_err(|_| WalError::Closed)?;
            if d.lsn >= lsn {
                return Ok(());
            }
            d.failure.clone()
        };
        Err(failure.map_or(WalError::Closed, |f| f.sync_error()))
    }

    /// Fsyncs everything written so far (e.g. at shutdown). Blocking.
    pub fn sync(&self) -> Result<(), WalError> {
        self.shared.sync_pending()
    }

    /// Deletes whole segments whose records are all `< lsn`; never the active segment.
    /// Returns how many files were removed.
    pub fn truncate_before(&self, lsn: u64) -> Result<usize, WalError> {
        self.shared.truncate_before(lsn)
    }

    /// Total size of all segment files.
    pub fn bytes_on_disk(&self) -> u64 {
        self.shared.bytes.load(Ordering::Relaxed)
    }

    /// The lsn the next `append` will get.
    pub fn next_lsn(&self) -> u64 {
        self.shared.next_lsn.load(Ordering::Acquire)
    }

    /// Highest lsn known to be on stable storage (0 if none).
    pub fn last_durable_lsn(&self) -> u64 {
        self.shared.durable.borrow().lsn
    }

    /// The torn tail `open` cut off, if any.
    pub fn recovered_tail(&self) -> Option<&TruncatedTail> {
        self.tail.as_ref()
    }

    /// The WAL's directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }
}

impl Drop for Wal {
    /// Stops the group-commit thread; it performs one last fsync on the way out.
    fn drop(&mut self) {
        if let Some(handle) = self.syncer.take() {
            *self.shared.stop.lock() = true;
            self.shared.stop_cv.notify_all();
            if handle.join().is_err() {
                tracing::error!("WAL group-commit thread panicked");
            }
        }
    }
}

fn spawn_syncer(shared: Arc<Shared>, interval: Duration) -> Result<JoinHandle<()>, WalError> {
    std::thread::Builder::new()
        .name("wal-group-commit".into())
        .spawn(move || run_syncer(&shared, interval))
        .map_err(|source| WalError::SpawnSyncer { source })
}

/// Fsyncs every `interval` until stopped. The stop flag is checked under its lock before
/// waiting, so a stop request is never missed. After a failure (already published to
/// waiters) nothing can become durable any more, so the thread exits.
fn run_syncer(shared: &Shared, interval: Duration) {
    loop {
        let stopping = {
            let mut stop = shared.stop.lock();
            if !*stop {
                shared.stop_cv.wait_for(&mut stop, interval);
            }
            *stop
        };
        if shared.sync_pending().is_err() || stopping {
            return;
        }
    }
}
