//! Sealing: freeze the growing segment, write it to the object store, commit a manifest that
//! lists it, then drop the WAL files it covers.
//!
//! A sealed segment that failed to upload stays in memory (and in the WAL) and is retried by the
//! next seal before anything newer, so the manifest's `wal_lsn` never passes a segment that is
//! not in the object store.

use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::PutPayload;

use super::Collection;
use crate::error::Result;
use crate::manifest::SegmentEntry;
use crate::segment::{parquet, Segment};

/// A copy of a sealed segment's contents, taken so encoding runs without the state lock.
struct SealedCopy {
    segment: Segment,
    sealed_at_lsn: u64,
}

impl Collection {
    /// Seals the growing segment (if it holds anything) and persists every sealed segment the
    /// manifest does not list yet. Returns whether a segment was persisted.
    pub async fn seal(self: &Arc<Self>) -> Result<bool> {
        let _s = self.seal_lock.lock().await;
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || this.freeze()).await??;
        let mut persisted = false;
        while let Some(copy) = self.next_unpersisted() {
            self.persist(copy).await?;
            persisted = true;
        }
        let covered = self.manifest.lock().wal_lsn;
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || this.wal.truncate_before(covered + 1)).await??;
        Ok(persisted)
    }

    /// Turns the growing segment into a sealed one and starts a new growing segment.
    fn freeze(&self) -> Result<()> {
        let _w = self.writer.lock();
        self.catch_up_growing()?;
        let spec = self.spec();
        let mut st = self.state.write();
        if st.growing().is_empty() {
            return Ok(());
        }
        let boundary = st.applied_lsn;
        st.growing_mut().sealed_at_lsn = Some(boundary);
        let id = st.next_segment_id;
        st.next_segment_id += 1;
        st.segments
            .push(Segment::new(id, &spec.index, spec.metric, spec.dimension)?);
        Ok(())
    }

    /// The oldest sealed segment missing from the manifest, copied.
    fn next_unpersisted(&self) -> Option<SealedCopy> {
        let listed: Vec<u64> = self.manifest.lock().segments.iter().map(|s| s.id).collect();
        let st = self.state.read();
        let seg = st
            .segments
            .iter()
            .find(|s| s.sealed_at_lsn.is_some() && !listed.contains(&s.id))?;
        let mut copy =
            Segment::with_index(seg.id, seg.metric, seg.dim as u32, Arc::clone(&seg.index));
        copy.ids = seg.ids.clone();
        copy.lsns = seg.lsns.clone();
        copy.vectors = seg.vectors.clone();
        copy.metadata = seg.metadata.clone();
        copy.tombstones = seg.tombstones.clone();
        Some(SealedCopy {
            sealed_at_lsn: seg.sealed_at_lsn.unwrap_or(0),
            segment: copy,
        })
    }

    async fn persist(&self, copy: SealedCopy) -> Result<()> {
        let name = self.name();
        let seg = copy.segment;
        let (id, rows, tombstones) = (seg.id, seg.ids.len(), seg.tombstones.len());
        let index = Arc::clone(&seg.index);
        let (data, index_bytes) = tokio::task::spawn_blocking(move || -> Result<_> {
            let started = std::time::Instant::now();
            let data = parquet::encode(&seg)?;
            let idx = index.to_bytes()?;
            crate::metrics::SEGMENT_WRITE_SECONDS.observe(started.elapsed().as_secs_f64());
            Ok((data, idx))
        })
        .await??;
        let data_path = format!("collections/{name}/segments/{id:020}.parquet");
        let index_path = format!("collections/{name}/segments/{id:020}.faiss");
        let entry = SegmentEntry {
            id,
            rows: rows as u64,
            tombstones: tombstones as u64,
            data: data_path.clone(),
            index: index_path.clone(),
            data_bytes: data.len() as u64,
            index_bytes: index_bytes.len() as u64,
        };
        let store = self.manifests.store();
        store
            .put(&Path::from(data_path), PutPayload::from(Bytes::from(data)))
            .await?;
        store
            .put(
                &Path::from(index_path),
                PutPayload::from(Bytes::from(index_bytes)),
            )
            .await?;
        let mut next = self.manifest.lock().clone();
        next.version += 1;
        next.segments.push(entry);
        next.wal_lsn = copy.sealed_at_lsn;
        next.next_segment_id = next.next_segment_id.max(id + 1);
        self.manifests.commit(&next).await?;
        tracing::info!(collection = %name, segment = id, rows, tombstones, wal_lsn = next.wal_lsn,
            version = next.version, "segment sealed and committed");
        *self.manifest.lock() = next;
        Ok(())
    }
}
