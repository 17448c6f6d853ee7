//! Opening a collection: segments from the manifest (each with its serialized FAISS index, never
//! rebuilt), then the WAL records the manifest does not cover.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use object_store::path::Path;
use parking_lot::{Mutex, RwLock};

use super::{write::apply, Collection, Loc, State};
use crate::config::LimitsConfig;
use crate::error::{DbError, Result};
use crate::index::VectorIndex;
use crate::manifest::{Manifest, ManifestStore, SegmentEntry};
use crate::ops::WalOp;
use crate::segment::{parquet, Segment};
use crate::wal::{Wal, WalOptions};

/// What every collection of one server shares when opening.
#[derive(Clone)]
pub struct OpenContext {
    pub manifests: ManifestStore,
    pub wal_root: PathBuf,
    pub wal_options: WalOptions,
    pub limits: LimitsConfig,
    pub max_segment_rows: usize,
}

impl OpenContext {
    pub fn wal_dir(&self, name: &str) -> PathBuf {
        self.wal_root.join(name)
    }
}

/// Opens the collection described by `manifest` (its latest committed version).
pub async fn open(manifest: Manifest, ctx: &OpenContext) -> Result<Arc<Collection>> {
    let spec = manifest.spec.clone();
    let mut st = State {
        segments: Vec::new(),
        locations: HashMap::new(),
        next_segment_id: manifest.next_segment_id,
        applied_lsn: manifest.wal_lsn,
    };
    for entry in &manifest.segments {
        let seg = load_segment(ctx, &manifest, entry).await?;
        add_loaded(&mut st, seg);
    }
    let growing_id = st.next_segment_id;
    st.next_segment_id += 1;
    st.segments.push(Segment::new(
        growing_id,
        &spec.index,
        spec.metric,
        spec.dimension,
    )?);
    let dir = ctx.wal_dir(&spec.name);
    let opts = ctx.wal_options.clone();
    let from = manifest.wal_lsn + 1;
    let (wal, st) = tokio::task::spawn_blocking(move || -> Result<(Wal, State)> {
        let wal = Wal::open(&dir, opts, from)?;
        let mut st = st;
        let stats = wal.replay(from, |lsn, payload| -> Result<()> {
            apply(&mut st, lsn, &WalOp::decode(payload)?);
            Ok(())
        })?;
        tracing::info!(dir = %dir.display(), ?stats, "wal replayed");
        Ok((wal, st))
    })
    .await??;
    let coll = Arc::new(Collection {
        spec: RwLock::new(spec),
        state: RwLock::new(st),
        writer: Mutex::new(()),
        seal_lock: tokio::sync::Mutex::new(()),
        wal,
        manifests: ctx.manifests.clone(),
        manifest: Mutex::new(manifest),
        limits: ctx.limits.clone(),
        max_segment_rows: ctx.max_segment_rows,
    });
    let c = Arc::clone(&coll);
    tokio::task::spawn_blocking(move || c.catch_up_growing()).await??;
    Ok(coll)
}

/// Fetches and decodes one sealed segment with its index.
async fn load_segment(ctx: &OpenContext, m: &Manifest, e: &SegmentEntry) -> Result<Segment> {
    let store = ctx.manifests.store();
    let data = store
        .get(&Path::from(e.data.as_str()))
        .await?
        .bytes()
        .await?;
    let index = store
        .get(&Path::from(e.index.as_str()))
        .await?
        .bytes()
        .await?;
    let spec = m.spec.clone();
    let id = e.id;
    let expected_rows = e.rows as usize;
    tokio::task::spawn_blocking(move || -> Result<Segment> {
        let rows = parquet::decode(data, spec.dimension as usize)?;
        let idx = VectorIndex::from_bytes(&spec.index, spec.dimension, &index)?;
        if rows.ids.len() != expected_rows {
            return Err(DbError::Internal(format!(
                "segment {id} has {} rows, manifest says {expected_rows}",
                rows.ids.len()
            )));
        }
        if rows.metadata.len() != rows.ids.len()
            || rows.vectors.len() != rows.ids.len() * spec.dimension as usize
        {
            return Err(DbError::Internal(format!(
                "segment {id} has ragged columns"
            )));
        }
        Ok(Segment::from_rows(
            id,
            spec.metric,
            spec.dimension,
            Arc::new(idx),
            rows,
        ))
    })
    .await?
}

/// Adds a loaded segment: its rows supersede older rows of the same id, then its tombstones kill
/// any older row (by lsn) of their id.
fn add_loaded(st: &mut State, mut seg: Segment) {
    let seg_id = seg.id;
    for row in 0..seg.rows() {
        let id = seg.ids[row].clone();
        if let Some(old) = st.locations.insert(
            id,
            Loc {
                segment: seg_id,
                row: row as u32,
            },
        ) {
            if old.segment == seg_id {
                seg.kill(old.row as usize);
            } else if let Some(p) = st.segment_pos(old.segment) {
                st.segments[p].kill(old.row as usize);
            }
        }
    }
    let tombstones = std::mem::take(&mut seg.tombstones);
    st.segments.push(seg);
    for (id, lsn) in &tombstones {
        let Some(loc) = st.locations.get(id).copied() else {
            continue;
        };
        let Some(p) = st.segment_pos(loc.segment) else {
            continue;
        };
        if st.segments[p].lsns[loc.row as usize] < *lsn {
            st.segments[p].kill(loc.row as usize);
            st.locations.remove(id);
        }
    }
    if let Some(last) = st.segments.last_mut() {
        last.tombstones = tombstones;
    }
}
