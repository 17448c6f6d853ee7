//! One FAISS index per segment. FAISS labels are the segment's row numbers (0..n, assigned in add
//! order), so no ID map is needed and tombstones/filters become a row bitmap handed to FAISS as an
//! `IDSelectorBitmap`.
//!
//! Indexes that need training (IVF, PQ, many factory strings) stay untrained, and the segment
//! answers by exact search, until enough rows exist; then they are trained on the segment's rows
//! and every row is added at once.

pub mod exact;
mod ffi;

use akidb_client::{IndexSpec, Metric, SearchParams};
use faiss::index::autotune::ParameterSpace;
use faiss::index::IndexImpl;
use faiss::{Index, MetricType};
use parking_lot::{RwLock, RwLockUpgradableReadGuard, RwLockWriteGuard};

pub use ffi::FaissCallError;

/// Why an index operation failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The spec cannot be built (user's fault: bad factory string or parameters).
    #[error("invalid index specification: {0}")]
    InvalidSpec(String),
    /// FAISS refused an operation on a valid index (service's fault).
    #[error(transparent)]
    Faiss(#[from] FaissCallError),
    #[error("faiss: {0}")]
    FaissCrate(#[from] faiss::error::Error),
    /// Serialising or loading the index file failed.
    #[error("index file i/o: {0}")]
    Io(#[from] std::io::Error),
}

type Result<T> = std::result::Result<T, IndexError>;

/// A segment's FAISS index plus what is needed to search it concurrently.
pub struct VectorIndex {
    spec: IndexSpec,
    dim: usize,
    state: RwLock<State>,
}

struct State {
    index: IndexImpl,
    /// The `efSearch` currently set on an HNSW index (FAISS keeps it in the index, not per query).
    ef_search: Option<u32>,
    /// Rows needed before training is attempted (0 when trained).
    train_at: usize,
}

fn faiss_metric(metric: Metric) -> MetricType {
    match metric {
        Metric::L2 => MetricType::L2,
        Metric::Ip | Metric::Cosine => MetricType::InnerProduct,
    }
}

/// The FAISS factory description of a spec.
pub fn factory_string(spec: &IndexSpec) -> String {
    match spec {
        IndexSpec::Flat => "Flat".to_string(),
        IndexSpec::Hnsw { m, .. } => format!("HNSW{m},Flat"),
        IndexSpec::IvfFlat { nlist, .. } => format!("IVF{nlist},Flat"),
        // `np`: no polysemous training, which only serves Hamming-code search and costs minutes.
        IndexSpec::IvfPq {
            nlist, m, nbits, ..
        } => format!("IVF{nlist},PQ{m}x{nbits}np"),
        IndexSpec::Factory { description } => description.clone(),
    }
}

/// Rows a segment must hold before an untrained index is trained (FAISS's k-means wants about
/// 39 points per centroid).
fn training_threshold(spec: &IndexSpec) -> usize {
    match spec {
        IndexSpec::IvfFlat { nlist, .. } => 39 * (*nlist as usize).max(1),
        IndexSpec::IvfPq { nlist, nbits, .. } => {
            39 * (*nlist as usize).max(1usize << (*nbits).min(16))
        }
        _ => 2048,
    }
}

/// Checks a spec's parameters and that FAISS can build it for `dim`.
pub fn validate_spec(spec: &IndexSpec, dim: u32) -> Result<()> {
    let bad = |m: &str| Err(IndexError::InvalidSpec(m.to_string()));
    match spec {
        IndexSpec::Hnsw {
            m,
            ef_construction,
            ef_search,
        } => {
            if !(2..=256).contains(m) {
                return bad("hnsw m must be in 2..=256");
            }
            if !(1..=4096).contains(ef_construction) || !(1..=4096).contains(ef_search) {
                return bad("hnsw ef_construction and ef_search must be in 1..=4096");
            }
        }
        IndexSpec::IvfFlat { nlist, nprobe } => {
            if !(1..=65536).contains(nlist) || *nprobe == 0 || nprobe > nlist {
                return bad("ivf nlist must be in 1..=65536 and nprobe in 1..=nlist");
            }
        }
        IndexSpec::IvfPq {
            nlist,
            m,
            nbits,
            nprobe,
        } => {
            if !(1..=65536).contains(nlist) || *nprobe == 0 || nprobe > nlist {
                return bad("ivf nlist must be in 1..=65536 and nprobe in 1..=nlist");
            }
            if *m == 0 || !dim.is_multiple_of(*m) {
                return bad("ivf_pq m must divide the dimension");
            }
            if !(1..=16).contains(nbits) {
                return bad("ivf_pq nbits must be in 1..=16");
            }
        }
        IndexSpec::Factory { description } => {
            if description.is_empty() || description.len() > 256 || description.contains('\0') {
                return bad("factory description must be 1..=256 characters");
            }
        }
        IndexSpec::Flat => {}
    }
    let probe = faiss::index_factory(dim, factory_string(spec), MetricType::L2)
        .map_err(|e| IndexError::InvalidSpec(format!("faiss cannot build it: {e}")))?;
    drop(probe);
    Ok(())
}

impl VectorIndex {
    /// A new, empty index.
    pub fn new(spec: &IndexSpec, metric: Metric, dim: u32) -> Result<Self> {
        let index = faiss::index_factory(dim, factory_string(spec), faiss_metric(metric))
            .map_err(|e| IndexError::InvalidSpec(e.to_string()))?;
        let ps = ParameterSpace::new()?;
        if let IndexSpec::Hnsw {
            ef_construction, ..
        } = spec
        {
            ps.set_index_parameter(&index, "efConstruction", *ef_construction)?;
        }
        Ok(Self::wrap(spec, dim, index))
    }

    fn wrap(spec: &IndexSpec, dim: u32, index: IndexImpl) -> Self {
        let train_at = if index.is_trained() {
            0
        } else {
            training_threshold(spec)
        };
        VectorIndex {
            spec: spec.clone(),
            dim: dim as usize,
            state: RwLock::new(State {
                index,
                ef_search: None,
                train_at,
            }),
        }
    }

    /// Loads a serialized index (no rebuild).
    pub fn from_bytes(spec: &IndexSpec, dim: u32, bytes: &[u8]) -> Result<Self> {
        let tmp = tempfile::NamedTempFile::new()?;
        std::fs::write(tmp.path(), bytes)?;
        let index = faiss::read_index(tmp.path().to_string_lossy())?;
        if index.d() != dim {
            return Err(IndexError::InvalidSpec(format!(
                "index file has dimension {}, collection has {dim}",
                index.d()
            )));
        }
        Ok(Self::wrap(spec, dim, index))
    }

    /// Serialises the index (FAISS's own format).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let tmp = tempfile::NamedTempFile::new()?;
        let st = self.state.read();
        faiss::write_index(&st.index, tmp.path().to_string_lossy())?;
        drop(st);
        Ok(std::fs::read(tmp.path())?)
    }

    /// Vectors held by FAISS (rows below this are searchable through FAISS).
    pub fn ntotal(&self) -> usize {
        self.state.read().index.ntotal() as usize
    }

    /// Appends `tail` (row-major vectors of rows `first_row..`) to the index. An untrained index
    /// ignores it until the segment holds enough rows; it is then trained on all rows, which the
    /// caller passes as the tail from row 0 (FAISS holds none yet).
    pub fn catch_up(&self, first_row: usize, tail: &[f32]) -> Result<()> {
        let mut st = self.state.write();
        let have = st.index.ntotal() as usize;
        let rows = first_row + tail.len() / self.dim;
        if have >= rows {
            return Ok(());
        }
        if have < first_row {
            return Err(IndexError::InvalidSpec(format!(
                "index holds {have} rows but rows from {first_row} were offered"
            )));
        }
        if !st.index.is_trained() {
            if rows < st.train_at || first_row != 0 {
                return Ok(());
            }
            if let Err(e) = st.index.train(tail) {
                // Too few points for this factory string: try again with twice as many rows.
                tracing::warn!(error = %e, rows, "index training failed; retrying later");
                st.train_at = rows.saturating_mul(2);
                return Ok(());
            }
            st.train_at = 0;
        }
        st.index.add(&tail[(have - first_row) * self.dim..])?;
        Ok(())
    }

    /// True when the index is trained (an untrained one holds no rows).
    pub fn is_trained(&self) -> bool {
        self.state.read().index.is_trained()
    }

    /// k-NN search; see [`ffi::search`] for the bitmap and result layout.
    pub fn search(
        &self,
        queries: &[f32],
        k: usize,
        bitmap: Option<&[u8]>,
        params: &SearchParams,
    ) -> Result<(Vec<f32>, Vec<i64>)> {
        let guard = match self.wanted_ef(params) {
            Some(ef) => self.read_with_ef(ef)?,
            None => RwLockUpgradableReadGuard::downgrade(self.state.upgradable_read()),
        };
        let nprobe = self.wanted_nprobe(params);
        Ok(ffi::search(&guard.index, queries, k, bitmap, nprobe)?)
    }

    fn wanted_ef(&self, params: &SearchParams) -> Option<u32> {
        match &self.spec {
            IndexSpec::Hnsw { ef_search, .. } => Some(params.ef_search.unwrap_or(*ef_search)),
            _ => None,
        }
    }

    fn wanted_nprobe(&self, params: &SearchParams) -> Option<usize> {
        let default = match &self.spec {
            IndexSpec::IvfFlat { nprobe, .. } | IndexSpec::IvfPq { nprobe, .. } => Some(*nprobe),
            _ => None,
        };
        params.nprobe.or(default).map(|n| n as usize)
    }

    /// A read guard on an index whose `efSearch` is `ef`; queries wanting the same value share it.
    fn read_with_ef(&self, ef: u32) -> Result<parking_lot::RwLockReadGuard<'_, State>> {
        {
            let st = self.state.read();
            if st.ef_search == Some(ef) {
                return Ok(st);
            }
        }
        let mut st = self.state.write();
        if st.ef_search != Some(ef) {
            ParameterSpace::new()?.set_index_parameter(&st.index, "efSearch", ef)?;
            st.ef_search = Some(ef);
        }
        Ok(RwLockWriteGuard::downgrade(st))
    }

    /// An estimate of the bytes FAISS holds in memory for this index.
    pub fn memory_bytes(&self) -> u64 {
        let n = self.ntotal() as u64;
        let d = self.dim as u64;
        match &self.spec {
            IndexSpec::Flat | IndexSpec::Factory { .. } => n * d * 4,
            IndexSpec::Hnsw { m, .. } => n * d * 4 + n * (*m as u64) * 2 * 4 * 11 / 10,
            IndexSpec::IvfFlat { nlist, .. } => n * (d * 4 + 8) + (*nlist as u64) * d * 4,
            IndexSpec::IvfPq {
                nlist, m, nbits, ..
            } => n * ((*m as u64) * (*nbits as u64) / 8 + 8) + (*nlist as u64) * d * 4,
        }
    }
}

#[cfg(test)]
mod tests;
