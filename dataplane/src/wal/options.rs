//! WAL configuration and its serde shape.

use serde::{Deserialize, Serialize};

use super::WalError;

/// When appended records are fsynced.
///
/// Serde shape (chosen so TOML config reads naturally):
/// `"always"`, `"never"`, or `{ group_commit_ms = 5 }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "FsyncRepr", into = "FsyncRepr")]
pub enum FsyncPolicy {
    /// `fdatasync` inside every `append`; slowest, nothing acknowledged can be lost.
    Always,
    /// A background thread fsyncs every `interval_ms`; callers await `Wal::wait_durable`.
    GroupCommit { interval_ms: u64 },
    /// Never fsync on the write path (only on rotation and explicit `Wal::sync`).
    Never,
}

impl Default for FsyncPolicy {
    /// `Always`: durable unless the operator explicitly trades it for throughput.
    fn default() -> Self {
        FsyncPolicy::Always
    }
}

/// Wire representation: unit variants are plain strings, group commit is a one-key table.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum FsyncRepr {
    Always,
    Never,
    GroupCommitMs(u64),
}

impl From<FsyncRepr> for FsyncPolicy {
    fn from(r: FsyncRepr) -> Self {
        match r {
            FsyncRepr::Always => FsyncPolicy::Always,
            FsyncRepr::Never => FsyncPolicy::Never,
            FsyncRepr::GroupCommitMs(interval_ms) => FsyncPolicy::GroupCommit { interval_ms },
        }
    }
}

impl From<FsyncPolicy> for FsyncRepr {
    fn from(p: FsyncPolicy) -> Self {
        match p {
            FsyncPolicy::Always => FsyncRepr::Always,
            FsyncPolicy::Never => FsyncRepr::Never,
            FsyncPolicy::GroupCommit { interval_ms } => FsyncRepr::GroupCommitMs(interval_ms),
        }
    }
}

/// Per-collection WAL options. Missing fields take their defaults; unknown fields are
/// rejected so a typo in config is an error rather than a silently ignored setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WalOptions {
    /// Rotate to a new segment file once the active one has reached this size.
    pub segment_bytes: u64,
    /// Durability policy.
    pub fsync: FsyncPolicy,
}

impl WalOptions {
    /// Default segment size: large enough that rotation (an fsync + directory fsync) is rare.
    pub const DEFAULT_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

    pub(crate) fn validate(&self) -> Result<(), WalError> {
        if self.segment_bytes == 0 {
            return Err(WalError::InvalidOptions {
                reason: "segment_bytes must be > 0".into(),
            });
        }
        if let FsyncPolicy::GroupCommit { interval_ms: 0 } = self.fsync {
            return Err(WalError::InvalidOptions {
                reason: "group_commit_ms must be > 0".into(),
            });
        }
        Ok(())
    }
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_bytes: Self::DEFAULT_SEGMENT_BYTES,
            fsync: FsyncPolicy::default(),
        }
    }
}
