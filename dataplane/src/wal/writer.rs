//! Writer state plus the fsync "gate" shared by appenders, `sync()` and the group-commit
//! thread.
//!
//! Two locks, always taken in the order `writer` → `gate`:
//! * `writer` guards the active file and lsn counter; held for the write syscall only
//!   (and for the fsync under `Always`, where that is the point).
//! * `gate` is held across every fsync and the publication of its result. Serialising
//!   fsyncs matters: after a failed fsync Linux reports success to the next caller even
//!   though dirty pages were dropped, so once the gate records a failure no later fsync
//!   is trusted and the WAL is poisoned. The group-commit thread takes `gate` without
//!   holding `writer`, so appends proceed while it syncs.

use std::{
    fs::{self, File},
    io::{self, Write},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
};

use parking_lot::{Condvar, Mutex};
use tokio::sync::watch;

use super::{
    record::{self, MAX_PAYLOAD_BYTES},
    recovery::{self, Segment},
    FsyncPolicy, WalError, WalOptions,
};

pub(crate) struct WriterState {
    /// Older segments, in lsn order.
    pub sealed: Vec<Segment>,
    /// The segment being appended to; `file` is it, opened in append mode.
    pub active: Segment,
    pub file: Arc<File>,
    pub next_lsn: u64,
}

impl WriterState {
    /// All segments in replay order.
    pub(crate) fn segments(&self) -> Vec<Segment> {
        let mut all = self.sealed.clone();
        all.push(self.active.clone());
        all
    }
}

/// A failed fsync (or unrecoverable write), remembered forever.
#[derive(Debug, Clone)]
pub(crate) struct SyncFailure {
    pub file: PathBuf,
    pub error: Arc<io::Error>,
}

impl SyncFailure {
    pub(crate) fn poisoned(&self) -> WalError {
        WalError::Poisoned {
            file: self.file.clone(),
            source: Arc::clone(&self.error),
        }
    }
    pub(crate) fn sync_error(&self) -> WalError {
        WalError::Sync {
            file: self.file.clone(),
            source: Arc::clone(&self.error),
        }
    }
}

/// Published through the watch channel: highest lsn known durable, and the first failure.
#[derive(Debug, Clone)]
pub(crate) struct Durability {
    pub lsn: u64,
    pub failure: Option<SyncFailure>,
}

pub(crate) struct Shared {
    pub dir: PathBuf,
    pub opts: WalOptions,
    pub writer: Mutex<WriterState>,
    gate: Mutex<Option<SyncFailure>>,
    /// Mirrors `gate.is_some()` so appends need not wait on an fsync in progress.
    failed: AtomicBool,
    pub durable: watch::Sender<Durability>,
    pub next_lsn: AtomicU64,
    pub bytes: AtomicU64,
    /// Set on drop to stop the group-commit thread.
    pub stop: Mutex<bool>,
    pub stop_cv: Condvar,
    #[cfg(test)]
    pub inject_sync_failure: AtomicBool,
}

impl Shared {
    /// Everything in `state` must already be durable (open fsyncs it).
    pub(crate) fn new(dir: PathBuf, opts: WalOptions, state: WriterState) -> Shared {
        let next = state.next_lsn;
        let bytes = state.sealed.iter().map(|s| s.len).sum::<u64>() + state.active.len;
        let (durable, _) = watch::channel(Durability {
            lsn: next.saturating_sub(1),
            failure: None,
        });
        Shared {
            dir,
            opts,
            writer: Mutex::new(state),
            gate: Mutex::new(None),
            failed: AtomicBool::new(false),
            durable,
            next_lsn: AtomicU64::new(next),
            bytes: AtomicU64::new(bytes),
            stop: Mutex::new(false),
            stop_cv: Condvar::new(),
            #[cfg(test)]
            inject_sync_failure: AtomicBool::new(false),
        }
    }

    pub(crate) fn failure(&self) -> Option<SyncFailure> {
        if self.failed.load(Ordering::Acquire) {
            self.gate.lock().clone()
        } else {
            None
        }
    }

    pub(crate) fn append(&self, payload: &[u8]) -> Result<u64, WalError> {
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(WalError::PayloadTooLarge {
                len: payload.len(),
                max: MAX_PAYLOAD_BYTES,
            });
        }
        let mut w = self.writer.lock();
        if let Some(f) = self.failure() {
            return Err(f.poisoned());
        }
        let active_len = w.active.len;
        if active_len > 0 && active_len >= self.opts.segment_bytes {
            self.rotate(&mut w)?;
        }
        let lsn = w.next_lsn;
        let next = lsn.checked_add(1).ok_or(WalError::LsnExhausted)?;
        let frame = record::encode(lsn, payload);
        let before = w.active.len;
        if let Err(source) = (&*w.file).write_all(&frame) {
            let file = w.active.path.clone();
            // Undo a partial write so the next record does not land after garbage; if
            // even that fails the file is in an unknown state and we stop.
            if let Err(e) = w.file.set_len(before) {
                self.fail(
                    &mut self.gate.lock(),
                    SyncFailure {
                        file: file.clone(),
                        error: Arc::new(e),
                    },
                );
            }
            return Err(WalError::Write { file, source });
        }
        let frame_len = frame.len() as u64;
        w.active.len = before + frame_len;
        w.next_lsn = next;
        self.next_lsn.store(next, Ordering::Release);
        self.bytes.fetch_add(frame_len, Ordering::Relaxed);
        if self.opts.fsync == FsyncPolicy::Always {
            let file = Arc::clone(&w.file);
            let path = w.active.path.clone();
            self.fsync_and_publish(&mut self.gate.lock(), &file, &path, lsn)?;
        }
        Ok(lsn)
    }

    /// Seals the active segment (fsynced, so everything before the new file is durable)
    /// and starts a new one named after the next lsn.
    fn rotate(&self, w: &mut WriterState) -> Result<(), WalError> {
        let file = Arc::clone(&w.file);
        let path = w.active.path.clone();
        let mut gate = self.gate.lock();
        self.fsync_and_publish(&mut gate, &file, &path, w.next_lsn.saturating_sub(1))?;
        let (new_path, new_file) = recovery::create_segment(&self.dir, w.next_lsn)?;
        if let Err(e) = recovery::fsync_dir(&self.dir) {
            // The new file's directory entry may not be durable; like a failed fsync,
            // a retry could falsely succeed, so stop here.
            let error = Arc::new(e);
            let failure = SyncFailure {
                file: self.dir.clone(),
                error,
            };
            self.fail(&mut gate, failure.clone());
            return Err(failure.sync_error());
        }
        let sealed = std::mem::replace(
            &mut w.active,
            Segment {
                first_lsn: w.next_lsn,
                path: new_path,
                len: 0,
            },
        );
        w.sealed.push(sealed);
        w.file = Arc::new(new_file);
        Ok(())
    }

    /// Fsyncs whatever has been written but not yet published as durable.
    pub(crate) fn sync_pending(&self) -> Result<(), WalError> {
        let (file, path, upto) = {
            let w = self.writer.lock();
            let upto = w.next_lsn.saturating_sub(1);
            (Arc::clone(&w.file), w.active.path.clone(), upto)
        };
        let mut gate = self.gate.lock();
        if gate.is_none() && upto <= self.durable.borrow().lsn {
            return Ok(());
        }
        self.fsync_and_publish(&mut gate, &file, &path, upto)
    }

    /// Caller holds the gate. All records `<= upto` must live in `file` or in earlier,
    /// already-synced segments.
    fn fsync_and_publish(
        &self,
        gate: &mut Option<SyncFailure>,
        file: &File,
        path: &Path,
        upto: u64,
    ) -> Result<(), WalError> {
        if let Some(f) = gate.as_ref() {
            return Err(f.poisoned());
        }
        match self.fdatasync(file) {
            Ok(()) => {
                self.durable.send_if_modified(|d| {
                    let advance = upto > d.lsn;
                    if advance {
                        d.lsn = upto;
                    }
                    advance
                });
                Ok(())
            }
            Err(e) => {
                let failure = SyncFailure {
                    file: path.to_path_buf(),
                    error: Arc::new(e),
                };
                tracing::error!(file = %path.display(), error = %failure.error, "WAL fsync failed; WAL is now poisoned");
                self.fail(gate, failure.clone());
                Err(failure.sync_error())
            }
        }
    }

    fn fdatasync(&self, file: &File) -> io::Result<()> {
        #[cfg(test)]
        if self.inject_sync_failure.swap(false, Ordering::SeqCst) {
            return Err(io::Error::other("injected fsync failure"));
        }
        file.sync_data()
    }

    /// Poisons the WAL and wakes every waiter with the failure.
    fn fail(&self, gate: &mut Option<SyncFailure>, failure: SyncFailure) {
        if gate.is_none() {
            *gate = Some(failure.clone());
        }
        self.failed.store(true, Ordering::Release);
        self.durable.send_modify(|d| {
            if d.failure.is_none() {
                d.failure = Some(failure);
            }
        });
    }

    /// Removes whole sealed segments whose records are all `< lsn`, oldest first, so a
    /// crash part-way leaves a contiguous suffix.
    pub(crate) fn truncate_before(&self, lsn: u64) -> Result<usize, WalError> {
        let mut w = self.writer.lock();
        // A sealed segment ends where the next one starts.
        let active_first = w.active.first_lsn;
        let covered = (0..w.sealed.len())
            .take_while(|&i| {
                let next_first = w.sealed.get(i + 1).map_or(active_first, |s| s.first_lsn);
                next_first <= lsn
            })
            .count();
        let mut removed = 0;
        let mut result = Ok(());
        for seg in w.sealed.iter().take(covered) {
            match fs::remove_file(&seg.path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => {
                    result = Err(WalError::RemoveSegment {
                        file: seg.path.clone(),
                        source,
                    });
                    break;
                }
            }
            removed += 1;
        }
        let freed: u64 = w.sealed.drain(..removed).map(|s| s.len).sum();
        self.bytes.fetch_sub(freed, Ordering::Relaxed);
        if removed > 0 {
            let synced = recovery::sync_dir(&self.dir);
            result = result.and(synced);
        }
        result.map(|()| removed)
    }
}
