//! Queries and point reads.

use std::sync::Arc;

use akidb_client::{Hit, Include, Record, SearchParams};

use super::Collection;
use crate::error::{DbError, Result};
use crate::filter::Filter;
use crate::segment::sort_best_first;
use crate::validate;

/// A validated query: row-major vectors, k, filter, what to include and search parameters.
pub struct Query {
    pub vectors: Vec<f32>,
    pub k: usize,
    pub filter: Option<Filter>,
    pub include: Vec<Include>,
    pub params: SearchParams,
}

impl Collection {
    /// Checks and (for cosine) normalises query vectors, flattening them row-major.
    pub fn prepare_vectors(&self, mut vectors: Vec<Vec<f32>>) -> Result<Vec<f32>> {
        let spec = self.spec();
        if vectors.is_empty() {
            return Err(DbError::InvalidRequest("vectors must not be empty".into()));
        }
        if vectors.len() > self.limits.max_query_vectors {
            return Err(DbError::LimitExceeded(format!(
                "{} query vectors exceed the limit of {}",
                vectors.len(),
                self.limits.max_query_vectors
            )));
        }
        let mut flat = Vec::with_capacity(vectors.len() * spec.dimension as usize);
        for (i, v) in vectors.iter_mut().enumerate() {
            validate::vector(v, spec.dimension as usize, spec.metric, i, &spec.name)?;
            flat.extend_from_slice(v);
        }
        Ok(flat)
    }

    /// Runs a query; one result list per query vector, best first.
    pub async fn query(self: &Arc<Self>, q: Query) -> Result<Vec<Vec<Hit>>> {
        if q.k == 0 || q.k > self.limits.max_k {
            return Err(DbError::LimitExceeded(format!(
                "k must be in 1..={}",
                self.limits.max_k
            )));
        }
        // A single unfiltered vector is a sub-millisecond FAISS call: run it on the request's
        // own worker, since a hand-off to the blocking pool costs as much as the search. Batches
        // and filters (a scan over metadata) go to the blocking pool.
        if q.filter.is_none() && q.vectors.len() <= self.spec.read().dimension as usize {
            return self.query_blocking(&q);
        }
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || this.query_blocking(&q)).await?
    }

    fn query_blocking(&self, q: &Query) -> Result<Vec<Vec<Hit>>> {
        let started = std::time::Instant::now();
        let out = self.search_all(q);
        crate::metrics::QUERY_SECONDS.observe(started.elapsed().as_secs_f64());
        out
    }

    fn search_all(&self, q: &Query) -> Result<Vec<Vec<Hit>>> {
        let spec = self.spec();
        let params = with_defaults(&q.params, &spec.index);
        let st = self.state.read();
        let nq = q.vectors.len() / spec.dimension as usize;
        let mut merged: Vec<Vec<(f32, (usize, usize))>> = vec![Vec::new(); nq];
        for (si, seg) in st.segments.iter().enumerate() {
            let per_query = seg.search(&q.vectors, q.k, q.filter.as_ref(), &params)?;
            for (qi, cands) in per_query.into_iter().enumerate() {
                merged[qi].extend(cands.into_iter().map(|(s, r)| (s, (si, r))));
            }
        }
        let with_meta = q.include.contains(&Include::Metadata);
        let with_vec = q.include.contains(&Include::Vector);
        Ok(merged
            .into_iter()
            .map(|mut c| {
                sort_best_first(spec.metric, &mut c);
                c.truncate(q.k);
                c.into_iter()
                    .map(|(score, (si, row))| {
                        let seg = &st.segments[si];
                        Hit {
                            id: seg.ids[row].clone(),
                            score,
                            metadata: with_meta.then(|| seg.metadata[row].clone()),
                            vector: with_vec.then(|| seg.vector(row).to_vec()),
                        }
                    })
                    .collect()
            })
            .collect())
    }

    /// The stored record (vector as stored: normalised under cosine).
    pub fn get_record(&self, id: &str) -> Result<Record> {
        let st = self.state.read();
        let not_found = || DbError::RecordNotFound {
            collection: self.name(),
            id: id.to_string(),
        };
        let loc = st.locations.get(id).ok_or_else(not_found)?;
        let seg = st
            .segment_pos(loc.segment)
            .map(|p| &st.segments[p])
            .ok_or_else(not_found)?;
        let row = loc.row as usize;
        Ok(Record {
            id: id.to_string(),
            vector: seg.vector(row).to_vec(),
            metadata: seg.metadata[row].clone(),
        })
    }
}

/// Fills unset per-query parameters from the collection's index settings.
fn with_defaults(p: &SearchParams, index: &akidb_client::IndexSpec) -> SearchParams {
    use akidb_client::IndexSpec::*;
    let mut out = p.clone();
    match index {
        Hnsw { ef_search, .. } => out.ef_search = Some(p.ef_search.unwrap_or(*ef_search)),
        IvfFlat { nprobe, .. } | IvfPq { nprobe, .. } => {
            out.nprobe = Some(p.nprobe.unwrap_or(*nprobe))
        }
        _ => {}
    }
    out
}
