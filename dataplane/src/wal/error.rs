//! Error type for the write-ahead log.

use std::{io, path::PathBuf, sync::Arc};

/// Boxed error carried out of a replay callback.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong while opening, replaying or writing a WAL.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    #[error("invalid WAL options: {reason}")]
    InvalidOptions { reason: String },

    #[error("failed to create WAL directory {dir}")]
    CreateDir {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("failed to list WAL directory {dir}")]
    ListDir {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("failed to fsync WAL directory {dir}")]
    SyncDir {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("failed to open WAL segment {file}")]
    OpenSegment {
        file: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("failed to read WAL segment {file}")]
    ReadSegment {
        file: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("failed to write WAL segment {file}")]
    Write {
        file: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("failed to truncate WAL segment {file}")]
    Truncate {
        file: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("failed to remove WAL segment {file}")]
    RemoveSegment {
        file: PathBuf,
        #[source]
        source: io::Error,
    },

    /// An fsync failed: records written since the last successful fsync may be lost.
    #[error("fsync of WAL {file} failed; unsynced records are not durable")]
    Sync {
        file: PathBuf,
        #[source]
        source: Arc<io::Error>,
    },

    /// An earlier fsync (or an unrecoverable write) failed; the WAL refuses further work
    /// because the kernel may have dropped dirty pages. Reopen it to recover from disk.
    #[error("WAL is unusable after an earlier I/O failure on {file}; reopen it")]
    Poisoned {
        file: PathBuf,
        #[source]
        source: Arc<io::Error>,
    },

    #[error("corrupt WAL record in {file} at offset {offset}: {reason}")]
    Corrupt {
        file: PathBuf,
        offset: u64,
        reason: String,
    },

    #[error("WAL payload of {len} bytes exceeds the maximum of {max} bytes")]
    PayloadTooLarge { len: usize, max: usize },

    #[error("lsn {lsn} has not been assigned yet (next lsn is {next_lsn})")]
    LsnNotAssigned { lsn: u64, next_lsn: u64 },

    #[error("WAL lsn space exhausted")]
    LsnExhausted,

    #[error("WAL replay callback failed at lsn {lsn}")]
    Replay {
        lsn: u64,
        #[source]
        source: BoxError,
    },

    #[error("failed to start the WAL group-commit thread")]
    SpawnSyncer {
        #[source]
        source: io::Error,
    },

    #[error("WAL is closed")]
    Closed,
}
