//! Upserts and deletes: log, apply, index, then wait for durability.

use std::sync::Arc;

use akidb_client::Record;

use super::{Collection, Loc, State};
use crate::error::Result;
use crate::filter::Filter;
use crate::ops::WalOp;
use crate::validate;

impl Collection {
    /// Stores a validated batch; returns once its WAL record is durable.
    pub async fn upsert(self: &Arc<Self>, mut records: Vec<Record>) -> Result<u64> {
        let spec = self.spec();
        validate::upsert_batch(
            &mut records,
            spec.dimension as usize,
            spec.metric,
            &spec.name,
            &self.limits,
        )?;
        let n = records.len() as u64;
        let this = Arc::clone(self);
        let lsn = tokio::task::spawn_blocking(move || this.log_and_apply(WalOp::Upsert(records)))
            .await??;
        self.after_write(lsn).await?;
        Ok(n)
    }

    /// Deletes by ids; returns how many were live.
    pub async fn delete_ids(self: &Arc<Self>, ids: Vec<String>) -> Result<u64> {
        validate::delete_ids(&ids, &self.limits)?;
        let this = Arc::clone(self);
        let (lsn, n) = tokio::task::spawn_blocking(move || {
            let _w = this.writer.lock();
            let live: Vec<String> = {
                let st = this.state.read();
                let mut seen = std::collections::HashSet::new();
                ids.into_iter()
                    .filter(|id| st.locations.contains_key(id) && seen.insert(id.clone()))
                    .collect()
            };
            this.log_live_deletes(live)
        })
        .await??;
        self.after_write(lsn).await?;
        Ok(n)
    }

    /// Deletes every live record matching `filter`.
    pub async fn delete_filter(self: &Arc<Self>, filter: Filter) -> Result<u64> {
        let this = Arc::clone(self);
        let (lsn, n) = tokio::task::spawn_blocking(move || {
            let _w = this.writer.lock();
            let matching = this.matching_ids(&filter);
            this.log_live_deletes(matching)
        })
        .await??;
        self.after_write(lsn).await?;
        Ok(n)
    }

    /// Logs a delete of ids known to be live (writer lock held). Returns `(lsn, count)`; lsn 0
    /// when there was nothing to delete and nothing was logged.
    fn log_live_deletes(&self, ids: Vec<String>) -> Result<(u64, u64)> {
        if ids.is_empty() {
            return Ok((0, 0));
        }
        let n = ids.len() as u64;
        let op = WalOp::Delete(ids);
        let lsn = self.wal.append(&op.encode())?;
        apply(&mut self.state.write(), lsn, &op);
        Ok((lsn, n))
    }

    fn matching_ids(&self, filter: &Filter) -> Vec<String> {
        let st = self.state.read();
        st.segments
            .iter()
            .flat_map(|seg| seg.matching_rows(filter).map(|row| seg.ids[row].clone()))
            .collect()
    }

    /// Appends to the WAL, applies, and lets the growing index catch up. Blocking.
    fn log_and_apply(&self, op: WalOp) -> Result<u64> {
        let _w = self.writer.lock();
        let lsn = self.wal.append(&op.encode())?;
        apply(&mut self.state.write(), lsn, &op);
        self.catch_up_growing()?;
        Ok(lsn)
    }

    /// Feeds the growing segment's rows that FAISS does not hold yet to its index, outside the
    /// state lock so queries keep running (they search the uncovered tail exactly meanwhile).
    pub(super) fn catch_up_growing(&self) -> Result<()> {
        let (index, have, tail) = {
            let st = self.state.read();
            let g = st.growing();
            let have = g.index.ntotal();
            if have >= g.rows() {
                return Ok(());
            }
            (
                Arc::clone(&g.index),
                have,
                g.vectors[have * g.dim..].to_vec(),
            )
        };
        let started = std::time::Instant::now();
        index.catch_up(have, &tail)?;
        crate::metrics::INDEX_BUILD_SECONDS.observe(started.elapsed().as_secs_f64());
        Ok(())
    }

    /// Waits for durability, then seals in the background if the growing segment is full.
    async fn after_write(self: &Arc<Self>, lsn: u64) -> Result<()> {
        if lsn == 0 {
            return Ok(());
        }
        self.wal.wait_durable(lsn).await?;
        if self.state.read().growing().rows() >= self.max_segment_rows {
            let this = Arc::clone(self);
            tokio::spawn(async move {
                if let Err(e) = this.seal().await {
                    tracing::error!(collection = %this.name(), error = %e, "background seal failed");
                }
            });
        }
        Ok(())
    }
}

/// Applies a logged op to memory (shared by the write path and WAL replay).
pub(super) fn apply(st: &mut State, lsn: u64, op: &WalOp) {
    match op {
        WalOp::Upsert(records) => {
            for r in records {
                st.kill(&r.id);
                let g = st.growing_mut();
                let seg = g.id;
                let row = g.push(r.id.clone(), lsn, &r.vector, r.metadata.clone());
                st.locations.insert(
                    r.id.clone(),
                    Loc {
                        segment: seg,
                        row: row as u32,
                    },
                );
            }
        }
        WalOp::Delete(ids) => {
            for id in ids {
                if st.kill(id) {
                    st.growing_mut().tombstones.push((id.clone(), lsn));
                }
            }
        }
    }
    st.applied_lsn = st.applied_lsn.max(lsn);
}
