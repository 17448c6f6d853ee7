//! A segment: rows appended in LSN order plus the FAISS index over them. The last segment of a
//! collection is *growing* (rows are appended); sealing freezes it and persists it as a Parquet
//! file beside its serialized FAISS index.
//!
//! Row `r` of a segment is FAISS label `r`. Deleted or replaced rows stay in place (the index
//! cannot drop them cheaply) and are masked by the `live` bitmap. A segment also carries the
//! tombstones issued while it was growing, `(id, lsn)`: on load they kill any row of that id with
//! a smaller LSN, in this or an older segment, which is what keeps deletes durable once the WAL
//! that recorded them is truncated.

pub mod bitmap;
pub mod parquet;

use std::sync::Arc;

use akidb_client::{IndexSpec, Metadata, Metric, SearchParams};

use crate::filter::Filter;
use crate::index::{exact, IndexError, VectorIndex};
pub use bitmap::Bitmap;

/// When a filter leaves at most this share of a segment's rows, search them exactly: graph and
/// IVF search lose recall on very selective filters, and exact search over few rows is cheap.
const EXACT_FILTER_RATIO: f64 = 0.1;
/// ... or at most this many rows, whatever the segment size.
const EXACT_FILTER_ROWS: usize = 2048;

/// One segment's rows, liveness and index.
pub struct Segment {
    pub id: u64,
    pub dim: usize,
    pub metric: Metric,
    pub ids: Vec<String>,
    pub lsns: Vec<u64>,
    pub vectors: Vec<f32>,
    pub metadata: Vec<Metadata>,
    pub live: Bitmap,
    pub live_count: usize,
    pub tombstones: Vec<(String, u64)>,
    pub index: Arc<VectorIndex>,
    /// Approximate bytes of ids and metadata, for the per-tier byte counts.
    pub payload_bytes: u64,
    /// Set when the segment stops growing: every WAL record up to this lsn is in this segment
    /// or an older one.
    pub sealed_at_lsn: Option<u64>,
}

/// A segment's candidate: `(score, row)`.
pub type Candidate = (f32, usize);

impl Segment {
    /// A new, empty growing segment.
    pub fn new(id: u64, spec: &IndexSpec, metric: Metric, dim: u32) -> Result<Self, IndexError> {
        Ok(Self::with_index(
            id,
            metric,
            dim,
            Arc::new(VectorIndex::new(spec, metric, dim)?),
        ))
    }

    /// An empty segment around an existing (possibly loaded) index.
    pub fn with_index(id: u64, metric: Metric, dim: u32, index: Arc<VectorIndex>) -> Self {
        Segment {
            id,
            dim: dim as usize,
            metric,
            ids: Vec::new(),
            lsns: Vec::new(),
            vectors: Vec::new(),
            metadata: Vec::new(),
            live: Bitmap::default(),
            live_count: 0,
            tombstones: Vec::new(),
            index,
            payload_bytes: 0,
            sealed_at_lsn: None,
        }
    }

    /// A sealed segment from decoded file columns, moved in without copying the vectors.
    pub fn from_rows(
        id: u64,
        metric: Metric,
        dim: u32,
        index: Arc<VectorIndex>,
        rows: parquet::SegmentRows,
    ) -> Self {
        let n = rows.ids.len();
        let payload_bytes = rows
            .ids
            .iter()
            .zip(&rows.metadata)
            .map(|(id, m)| (id.len() + 8 + approx_metadata_bytes(m)) as u64)
            .sum();
        Segment {
            id,
            dim: dim as usize,
            metric,
            ids: rows.ids,
            lsns: rows.lsns,
            vectors: rows.vectors,
            metadata: rows.metadata,
            live: Bitmap::with_len(n, true),
            live_count: n,
            tombstones: rows.tombstones,
            index,
            payload_bytes,
            sealed_at_lsn: Some(0),
        }
    }

    pub fn rows(&self) -> usize {
        self.ids.len()
    }

    /// True when the segment holds nothing worth persisting.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.tombstones.is_empty()
    }

    /// Appends a live row and returns its row number.
    pub fn push(&mut self, id: String, lsn: u64, vector: &[f32], metadata: Metadata) -> usize {
        self.payload_bytes += (id.len() + 8 + approx_metadata_bytes(&metadata)) as u64;
        self.ids.push(id);
        self.lsns.push(lsn);
        self.vectors.extend_from_slice(vector);
        self.metadata.push(metadata);
        self.live.push(true);
        self.live_count += 1;
        self.ids.len() - 1
    }

    /// Masks a row; returns whether it was live.
    pub fn kill(&mut self, row: usize) -> bool {
        if !self.live.get(row) {
            return false;
        }
        self.live.set(row, false);
        self.live_count -= 1;
        true
    }

    pub fn vector(&self, row: usize) -> &[f32] {
        &self.vectors[row * self.dim..(row + 1) * self.dim]
    }

    /// Bytes held in memory: vectors, FAISS index, ids and metadata.
    pub fn memory_bytes(&self) -> u64 {
        self.vectors.len() as u64 * 4 + self.index.memory_bytes() + self.payload_bytes
    }

    /// Top-k candidates of this segment for each query in `queries` (row-major).
    pub fn search(
        &self,
        queries: &[f32],
        k: usize,
        filter: Option<&Filter>,
        params: &SearchParams,
    ) -> Result<Vec<Vec<Candidate>>, IndexError> {
        let nq = queries.len() / self.dim.max(1);
        if self.live_count == 0 || k == 0 {
            return Ok(vec![Vec::new(); nq]);
        }
        let filtered = filter.filter(|f| !f.is_match_all()).map(|f| self.select(f));
        let (allowed, n_allowed) = match &filtered {
            Some((b, n)) => (Some(b), *n),
            None if self.live_count == self.rows() => (None, self.rows()),
            None => (Some(&self.live), self.live_count),
        };
        if n_allowed == 0 {
            return Ok(vec![Vec::new(); nq]);
        }
        let rows = self.rows();
        let covered = self.index.ntotal().min(rows);
        let selective = filtered.is_some()
            && (n_allowed <= EXACT_FILTER_ROWS
                || (n_allowed as f64) <= rows as f64 * EXACT_FILTER_RATIO);
        let allow = |r: usize| allowed.is_none_or(|b| b.get(r));
        if params.exact == Some(true) || covered == 0 || selective {
            return Ok(queries
                .chunks_exact(self.dim)
                .map(|q| exact::search(self.metric, &self.vectors, self.dim, q, k, allow))
                .collect());
        }
        let bits = allowed.map(|b| b.as_bytes());
        let (dist, labels) = self.index.search(queries, k, bits, params)?;
        let mut out = Vec::with_capacity(nq);
        for (qi, q) in queries.chunks_exact(self.dim).enumerate() {
            let mut cands: Vec<Candidate> = (0..k)
                .map(|j| (dist[qi * k + j], labels[qi * k + j]))
                .filter(|(_, l)| *l >= 0 && (*l as usize) < covered)
                .map(|(d, l)| (d, l as usize))
                .collect();
            if covered < rows {
                // Rows appended since the index last caught up: search them exactly.
                let tail = &self.vectors[covered * self.dim..];
                let extra =
                    exact::search(self.metric, tail, self.dim, q, k, |r| allow(r + covered));
                cands.extend(extra.into_iter().map(|(s, r)| (s, r + covered)));
                sort_best_first(self.metric, &mut cands);
                cands.truncate(k);
            }
            out.push(cands);
        }
        Ok(out)
    }

    /// Live rows whose metadata matches `f`.
    pub fn matching_rows<'a>(&'a self, f: &'a Filter) -> impl Iterator<Item = usize> + 'a {
        self.metadata
            .iter()
            .enumerate()
            .filter(move |(row, meta)| self.live.get(*row) && f.matches(meta))
            .map(|(row, _)| row)
    }

    /// Live rows matching `f`, as a bitmap and a count.
    fn select(&self, f: &Filter) -> (Bitmap, usize) {
        let mut b = Bitmap::with_len(self.rows(), false);
        let mut n = 0;
        for row in self.matching_rows(f) {
            b.set(row, true);
            n += 1;
        }
        (b, n)
    }
}

/// Orders candidates best first under `metric`.
pub fn sort_best_first<T>(metric: Metric, c: &mut [(f32, T)]) {
    if metric.higher_is_better() {
        c.sort_by(|a, b| b.0.total_cmp(&a.0));
    } else {
        c.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
}

/// Heap bytes of a metadata map, estimated by walking it (no serialisation on the write path).
fn approx_metadata_bytes(m: &Metadata) -> usize {
    m.iter().map(|(k, v)| k.len() + approx_value_bytes(v)).sum()
}

fn approx_value_bytes(v: &serde_json::Value) -> usize {
    use serde_json::Value;
    let own = std::mem::size_of::<Value>();
    match v {
        Value::String(s) => own + s.len(),
        Value::Array(a) => own + a.iter().map(approx_value_bytes).sum::<usize>(),
        Value::Object(o) => own + approx_metadata_bytes(o),
        _ => own,
    }
}

#[cfg(test)]
mod tests;
