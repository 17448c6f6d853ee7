//! The data plane's error type. Each variant's doc says whose fault it is; the HTTP layer maps
//! them to status codes and stable error codes in exactly one place (`api::error`).

use crate::filter::FilterError;
use crate::index::IndexError;
use crate::manifest::ManifestError;
use crate::ops::OpDecodeError;
use crate::segment::parquet::SegmentFileError;
use crate::wal::WalError;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// User: no such collection.
    #[error("collection '{0}' does not exist")]
    CollectionNotFound(String),
    /// User: the name is taken.
    #[error("collection '{0}' already exists")]
    CollectionExists(String),
    /// User: bad collection settings (name, dimension, limits).
    #[error("{0}")]
    InvalidCollection(String),
    /// User: an index specification FAISS cannot build.
    #[error("{0}")]
    InvalidIndex(String),
    /// User: a PATCH tried to change something fixed at creation.
    #[error("{0}")]
    ImmutableField(String),
    /// User: vector length differs from the collection's dimension.
    #[error(
        "vector {index} has {got} values but collection '{collection}' has dimension {expected}"
    )]
    DimensionMismatch {
        collection: String,
        index: usize,
        expected: usize,
        got: usize,
    },
    /// User: NaN/infinite values, or a zero vector under cosine.
    #[error("{0}")]
    InvalidVector(String),
    /// User: a malformed filter.
    #[error("invalid filter: {0}")]
    InvalidFilter(#[from] FilterError),
    /// User: the same id twice in one batch.
    #[error("id '{0}' appears more than once in the batch")]
    DuplicateId(String),
    /// User: a bad id (empty or over 256 bytes).
    #[error("{0}")]
    InvalidId(String),
    /// User: empty, oversized or self-contradictory request.
    #[error("{0}")]
    InvalidRequest(String),
    /// User: the batch or k is above the configured limit.
    #[error("{0}")]
    LimitExceeded(String),
    /// User: no record with that id.
    #[error("record '{id}' not found in collection '{collection}'")]
    RecordNotFound { collection: String, id: String },
    /// User (for now): a tiering policy this build does not serve yet.
    #[error("{0}")]
    Unsupported(String),
    /// Service: still loading collections / replaying WALs.
    #[error("the server is still loading")]
    NotReady,
    /// Service: another process committed this collection's manifest.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// Service: the WAL could not be written or read.
    #[error(transparent)]
    Wal(#[from] WalError),
    /// Service: FAISS failed on a valid index.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// Service: a segment file could not be written or read.
    #[error(transparent)]
    SegmentFile(#[from] SegmentFileError),
    /// Service: the object store failed.
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    /// Service: a WAL record that passed its checksum does not decode.
    #[error(transparent)]
    OpDecode(#[from] OpDecodeError),
    /// Service: local file I/O failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// Service: a background task panicked or was cancelled.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<tokio::task::JoinError> for DbError {
    fn from(e: tokio::task::JoinError) -> Self {
        DbError::Internal(e.to_string())
    }
}

pub type Result<T, E = DbError> = std::result::Result<T, E>;
