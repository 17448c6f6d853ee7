//! A collection: its segments in memory, its WAL on local disk and its manifest in the object
//! store.
//!
//! Write path (`write.rs`): under the collection's writer lock a batch is appended to the WAL,
//! applied to the growing segment and handed to its FAISS index; the caller is answered once the
//! WAL record is durable. Read path (`read.rs`): every segment is searched under a shared lock and
//! the per-segment top-k lists are merged. Sealing (`seal.rs`) freezes the growing segment,
//! writes it to the object store, commits a new manifest and truncates the WAL it covers.
//! Loading (`load.rs`) is the reverse: manifest, segments with their serialized indexes, then the
//! WAL tail.

mod load;
mod read;
mod seal;
mod write;

use std::collections::HashMap;
use std::sync::Arc;

use akidb_client::{CollectionInfo, TierBytes};
use parking_lot::{Mutex, RwLock};

use crate::config::LimitsConfig;
use crate::manifest::{CollectionSpec, Manifest, ManifestStore};
use crate::segment::Segment;
use crate::wal::Wal;

pub use load::{open, OpenContext};
pub use read::Query;

/// Where a live record sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loc {
    pub segment: u64,
    pub row: u32,
}

/// The in-memory part of a collection, behind one lock.
pub struct State {
    /// Sealed segments in id order, then the growing segment last.
    pub segments: Vec<Segment>,
    /// Live id → row.
    pub locations: HashMap<String, Loc>,
    pub next_segment_id: u64,
    /// Highest WAL lsn applied.
    pub applied_lsn: u64,
}

impl State {
    fn segment_pos(&self, id: u64) -> Option<usize> {
        self.segments.binary_search_by_key(&id, |s| s.id).ok()
    }

    pub fn growing(&self) -> &Segment {
        // The constructor and `seal` always leave a growing segment in place.
        &self.segments[self.segments.len() - 1]
    }

    fn growing_mut(&mut self) -> &mut Segment {
        let last = self.segments.len() - 1;
        &mut self.segments[last]
    }

    /// Kills the live row of `id`, if any; returns whether one was live.
    fn kill(&mut self, id: &str) -> bool {
        let Some(loc) = self.locations.remove(id) else {
            return false;
        };
        if let Some(p) = self.segment_pos(loc.segment) {
            self.segments[p].kill(loc.row as usize);
        }
        true
    }

    pub fn live_records(&self) -> u64 {
        self.locations.len() as u64
    }
}

/// One open collection.
pub struct Collection {
    spec: RwLock<CollectionSpec>,
    state: RwLock<State>,
    /// Serialises WAL append + apply so memory sees writes in lsn order.
    writer: Mutex<()>,
    /// One seal (manifest commit) at a time.
    seal_lock: tokio::sync::Mutex<()>,
    wal: Wal,
    manifests: ManifestStore,
    manifest: Mutex<Manifest>,
    limits: LimitsConfig,
    max_segment_rows: usize,
}

impl Collection {
    pub fn name(&self) -> String {
        self.spec.read().name.clone()
    }

    pub fn spec(&self) -> CollectionSpec {
        self.spec.read().clone()
    }

    pub fn limits(&self) -> &LimitsConfig {
        &self.limits
    }

    pub fn wal(&self) -> &Wal {
        &self.wal
    }

    /// The public view, with record count and per-tier bytes.
    pub fn info(&self) -> CollectionInfo {
        let spec = self.spec();
        let st = self.state.read();
        let memory: u64 = st.segments.iter().map(Segment::memory_bytes).sum();
        let object_store = self.manifest.lock().object_bytes();
        CollectionInfo {
            name: spec.name,
            dimension: spec.dimension,
            metric: spec.metric,
            index: spec.index,
            tiering: spec.tiering,
            records: st.live_records(),
            segments: st.segments.len() as u64,
            bytes: TierBytes {
                memory,
                disk: self.wal.bytes_on_disk(),
                object_store,
            },
        }
    }

    /// Replaces the mutable settings (the caller has checked which fields may change) and
    /// records them in a new manifest.
    pub async fn set_spec(self: &Arc<Self>, spec: CollectionSpec) -> crate::error::Result<()> {
        let _seal = self.seal_lock.lock().await;
        let mut next = self.manifest.lock().clone();
        next.version += 1;
        next.spec = spec.clone();
        self.manifests.commit(&next).await?;
        *self.manifest.lock() = next;
        *self.spec.write() = spec;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
