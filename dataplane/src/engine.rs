//! The set of collections of one server: creation, lookup, update, drop, flush and shutdown.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use akidb_client::{CollectionInfo, CreateCollection, Tiering, UpdateCollection};
use object_store::local::LocalFileSystem;
use object_store::ObjectStore;
use parking_lot::RwLock;

use crate::collection::{self, Collection, OpenContext};
use crate::config::Config;
use crate::error::{DbError, Result};
use crate::index;
use crate::manifest::{CollectionSpec, Manifest, ManifestStore};
use crate::validate;
use crate::wal::WalOptions;

/// All collections of this server.
pub struct Engine {
    ctx: OpenContext,
    collections: RwLock<HashMap<String, Arc<Collection>>>,
    /// Serialises create and drop so a name is never half-created.
    ddl: tokio::sync::Mutex<()>,
    ready: AtomicBool,
    max_collections: usize,
}

/// The object store named by the configuration (the embedded default is `<data_dir>/objects`).
pub fn object_store(cfg: &Config) -> Result<Arc<dyn ObjectStore>> {
    let url = cfg.object_store.url.trim();
    let dir = if url.is_empty() {
        cfg.storage.data_dir.join("objects")
    } else if let Some(path) = url.strip_prefix("file://") {
        std::path::PathBuf::from(path)
    } else {
        return Err(DbError::Unsupported(format!(
            "object_store.url '{url}': only file:// URLs are served by this build"
        )));
    };
    std::fs::create_dir_all(&dir)?;
    let fs = LocalFileSystem::new_with_prefix(&dir)?.with_automatic_cleanup(true);
    Ok(Arc::new(fs))
}

impl Engine {
    /// An engine with no collections loaded yet; call [`Engine::load`] next.
    pub fn new(cfg: &Config, store: Arc<dyn ObjectStore>) -> Arc<Engine> {
        Arc::new(Engine {
            ctx: OpenContext {
                manifests: ManifestStore::new(store),
                wal_root: cfg.storage.data_dir.join("wal"),
                wal_options: WalOptions {
                    segment_bytes: cfg.storage.wal_segment_bytes,
                    fsync: cfg.storage.fsync,
                },
                limits: cfg.limits.clone(),
                max_segment_rows: cfg.storage.max_segment_rows,
            },
            collections: RwLock::new(HashMap::new()),
            ddl: tokio::sync::Mutex::new(()),
            ready: AtomicBool::new(false),
            max_collections: cfg.limits.max_collections,
        })
    }

    /// Loads every collection found in the object store and replays its WAL; then ready.
    pub async fn load(&self) -> Result<()> {
        let names = self.ctx.manifests.list_collections().await?;
        for name in names {
            let Some(m) = self.ctx.manifests.latest(&name).await? else {
                continue;
            };
            let started = std::time::Instant::now();
            let c = collection::open(m, &self.ctx).await?;
            tracing::info!(collection = %name, records = c.info().records,
                seconds = started.elapsed().as_secs_f64(), "collection loaded");
            self.collections.write().insert(name, c);
        }
        self.remove_orphan_wals();
        self.ready.store(true, Ordering::Release);
        Ok(())
    }

    /// WAL directories without a collection are left by a crash during drop.
    fn remove_orphan_wals(&self) {
        let Ok(entries) = std::fs::read_dir(&self.ctx.wal_root) else {
            return;
        };
        let known = self.collections.read();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if !known.contains_key(&name) {
                tracing::warn!(dir = %e.path().display(), "removing WAL of a dropped collection");
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    fn ensure_ready(&self) -> Result<()> {
        if self.is_ready() {
            Ok(())
        } else {
            Err(DbError::NotReady)
        }
    }

    pub fn get(&self, name: &str) -> Result<Arc<Collection>> {
        self.ensure_ready()?;
        self.collections
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| DbError::CollectionNotFound(name.to_string()))
    }

    pub fn list(&self) -> Result<Vec<CollectionInfo>> {
        self.ensure_ready()?;
        let mut v: Vec<_> = self.collections.read().values().map(|c| c.info()).collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }

    pub fn all(&self) -> Vec<Arc<Collection>> {
        self.collections.read().values().cloned().collect()
    }

    pub async fn create(&self, req: CreateCollection) -> Result<CollectionInfo> {
        self.ensure_ready()?;
        validate::collection_name(&req.name)?;
        validate::dimension(req.dimension)?;
        index::validate_spec(&req.index, req.dimension)
            .map_err(|e| DbError::InvalidIndex(e.to_string()))?;
        check_tiering(req.tiering)?;
        let _ddl = self.ddl.lock().await;
        if self.collections.read().contains_key(&req.name) {
            return Err(DbError::CollectionExists(req.name));
        }
        if self.collections.read().len() >= self.max_collections {
            return Err(DbError::LimitExceeded(format!(
                "the server holds the maximum of {} collections",
                self.max_collections
            )));
        }
        let spec = CollectionSpec {
            name: req.name.clone(),
            dimension: req.dimension,
            metric: req.metric,
            index: req.index,
            tiering: req.tiering,
        };
        let m = Manifest::initial(spec);
        let _ = std::fs::remove_dir_all(self.ctx.wal_dir(&req.name));
        self.ctx.manifests.commit(&m).await.map_err(|e| match e {
            crate::manifest::ManifestError::Conflict { .. } => {
                DbError::CollectionExists(req.name.clone())
            }
            e => e.into(),
        })?;
        let c = collection::open(m, &self.ctx).await?;
        let info = c.info();
        self.collections.write().insert(req.name, c);
        Ok(info)
    }

    /// Applies a PATCH: only search-time index parameters and tiering may change.
    pub async fn update(&self, name: &str, req: UpdateCollection) -> Result<CollectionInfo> {
        let c = self.get(name)?;
        let mut spec = c.spec();
        if req.dimension.is_some_and(|d| d != spec.dimension) {
            return Err(DbError::ImmutableField("dimension cannot change".into()));
        }
        if req.metric.is_some_and(|m| m != spec.metric) {
            return Err(DbError::ImmutableField("metric cannot change".into()));
        }
        if let Some(idx) = req.index {
            if !same_build(&spec.index, &idx) {
                return Err(DbError::ImmutableField(
                    "only ef_search (hnsw) and nprobe (ivf) can change; the index type and its \
                     build parameters are fixed"
                        .into(),
                ));
            }
            index::validate_spec(&idx, spec.dimension)
                .map_err(|e| DbError::InvalidIndex(e.to_string()))?;
            spec.index = idx;
        }
        if let Some(t) = req.tiering {
            check_tiering(t)?;
            spec.tiering = t;
        }
        if spec != c.spec() {
            c.set_spec(spec).await?;
        }
        Ok(c.info())
    }

    pub async fn drop_collection(&self, name: &str) -> Result<()> {
        self.ensure_ready()?;
        let _ddl = self.ddl.lock().await;
        let c = self
            .collections
            .write()
            .remove(name)
            .ok_or_else(|| DbError::CollectionNotFound(name.to_string()))?;
        self.ctx.manifests.delete_collection(name).await?;
        let dir = self.ctx.wal_dir(name);
        drop(c);
        tokio::task::spawn_blocking(move || std::fs::remove_dir_all(&dir).or_else(ignore_missing))
            .await??;
        Ok(())
    }

    /// Seals and persists every collection; returns the names that persisted a segment.
    pub async fn flush(&self) -> Result<Vec<String>> {
        self.ensure_ready()?;
        let mut flushed = Vec::new();
        for c in self.all() {
            if c.seal().await? {
                flushed.push(c.name());
            }
        }
        flushed.sort();
        Ok(flushed)
    }

    /// Graceful stop: persist what can be persisted, then make every WAL durable.
    pub async fn shutdown(&self) {
        for c in self.all() {
            if let Err(e) = c.seal().await {
                tracing::warn!(collection = %c.name(), error = %e, "seal at shutdown failed; the WAL keeps the data");
            }
            let cc = Arc::clone(&c);
            match tokio::task::spawn_blocking(move || cc.wal().sync()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!(collection = %c.name(), error = %e, "wal sync at shutdown failed")
                }
                Err(e) => tracing::error!(error = %e, "wal sync task failed"),
            }
        }
    }
}

fn ignore_missing(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == std::io::ErrorKind::NotFound {
        Ok(())
    } else {
        Err(e)
    }
}

/// Tiering other than `memory` arrives with the S3 work; refuse it clearly until then.
fn check_tiering(t: Tiering) -> Result<()> {
    match t {
        Tiering::Memory => Ok(()),
        other => Err(DbError::Unsupported(format!(
            "tiering {other:?} is not served by this build yet; use \"memory\""
        ))),
    }
}

/// True when two specs build the same index (they may differ in search-time parameters).
fn same_build(a: &akidb_client::IndexSpec, b: &akidb_client::IndexSpec) -> bool {
    use akidb_client::IndexSpec::*;
    match (a, b) {
        (
            Hnsw {
                m, ef_construction, ..
            },
            Hnsw {
                m: m2,
                ef_construction: e2,
                ..
            },
        ) => m == m2 && ef_construction == e2,
        (IvfFlat { nlist, .. }, IvfFlat { nlist: n2, .. }) => nlist == n2,
        (
            IvfPq {
                nlist, m, nbits, ..
            },
            IvfPq {
                nlist: n2,
                m: m2,
                nbits: b2,
                ..
            },
        ) => nlist == n2 && m == m2 && nbits == b2,
        _ => a == b,
    }
}
