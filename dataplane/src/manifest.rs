//! Per-collection manifests in the object store: the collection's spec, its live segments and the
//! WAL position they cover.
//!
//! Commit protocol: version `n` is written as `collections/{name}/manifest/{u64::MAX - n:020}.json`
//! with a create-if-absent put. Two writers that both read version `n-1` race for the same object
//! name, so exactly one wins and the other gets [`ManifestError::Conflict`] and must stop writing
//! that collection. Names are inverted so that a plain lexicographic listing yields the latest
//! version first. Old versions are kept for a while (the last [`KEEP_VERSIONS`]) so a reader that
//! listed an older version can still fetch it.

use std::sync::Arc;

use akidb_client::{IndexSpec, Metric, Tiering};
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

/// How many older manifest versions survive a commit.
pub const KEEP_VERSIONS: u64 = 10;

/// The immutable and mutable settings of a collection, as persisted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionSpec {
    pub name: String,
    pub dimension: u32,
    pub metric: Metric,
    pub index: IndexSpec,
    pub tiering: Tiering,
}

/// A sealed segment as listed in a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentEntry {
    pub id: u64,
    pub rows: u64,
    pub tombstones: u64,
    /// Object path of the Parquet file.
    pub data: String,
    /// Object path of the serialized FAISS index.
    pub index: String,
    pub data_bytes: u64,
    pub index_bytes: u64,
}

/// One committed state of a collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u64,
    pub spec: CollectionSpec,
    pub segments: Vec<SegmentEntry>,
    /// Every WAL record with an lsn at or below this is contained in `segments`.
    pub wal_lsn: u64,
    pub next_segment_id: u64,
}

impl Manifest {
    /// Version 1 of a new, empty collection.
    pub fn initial(spec: CollectionSpec) -> Self {
        Manifest {
            version: 1,
            spec,
            segments: Vec::new(),
            wal_lsn: 0,
            next_segment_id: 1,
        }
    }

    /// Total bytes of the segment objects.
    pub fn object_bytes(&self) -> u64 {
        self.segments
            .iter()
            .map(|s| s.data_bytes + s.index_bytes)
            .sum()
    }
}

/// Why reading or committing a manifest failed.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Another writer committed this version first; this process must not write the collection.
    #[error(
        "manifest version {version} of collection {collection} was committed by another writer"
    )]
    Conflict { collection: String, version: u64 },
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    /// A manifest object that does not parse (corruption or an incompatible writer).
    #[error("manifest {path} is unreadable: {reason}")]
    Malformed { path: String, reason: String },
}

/// Reads and commits manifests in one object store.
#[derive(Clone)]
pub struct ManifestStore {
    store: Arc<dyn ObjectStore>,
}

/// The object prefix holding everything of a collection.
pub fn collection_prefix(name: &str) -> Path {
    Path::from(format!("collections/{name}"))
}

fn manifest_dir(name: &str) -> Path {
    Path::from(format!("collections/{name}/manifest"))
}

fn manifest_path(name: &str, version: u64) -> Path {
    Path::from(format!(
        "collections/{name}/manifest/{:020}.json",
        u64::MAX - version
    ))
}

fn version_of(p: &Path) -> Option<u64> {
    let file = p.filename()?;
    let inv: u64 = file.strip_suffix(".json")?.parse().ok()?;
    Some(u64::MAX - inv)
}

impl ManifestStore {
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        ManifestStore { store }
    }

    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    async fn versions(&self, name: &str) -> Result<Vec<u64>, ManifestError> {
        let prefix = manifest_dir(name);
        let metas: Vec<_> = self.store.list(Some(&prefix)).try_collect().await?;
        let mut v: Vec<u64> = metas
            .iter()
            .filter_map(|m| version_of(&m.location))
            .collect();
        v.sort_unstable();
        Ok(v)
    }

    /// The latest committed manifest of `name`, if the collection exists.
    pub async fn latest(&self, name: &str) -> Result<Option<Manifest>, ManifestError> {
        let Some(&version) = self.versions(name).await?.last() else {
            return Ok(None);
        };
        let path = manifest_path(name, version);
        let bytes = self.store.get(&path).await?.bytes().await?;
        let m: Manifest = serde_json::from_slice(&bytes).map_err(|e| ManifestError::Malformed {
            path: path.to_string(),
            reason: e.to_string(),
        })?;
        Ok(Some(m))
    }

    /// Commits `m` as version `m.version`; fails with `Conflict` if that version exists.
    pub async fn commit(&self, m: &Manifest) -> Result<(), ManifestError> {
        let path = manifest_path(&m.spec.name, m.version);
        let body = serde_json::to_vec_pretty(m).map_err(|e| ManifestError::Malformed {
            path: path.to_string(),
            reason: e.to_string(),
        })?;
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self
            .store
            .put_opts(&path, PutPayload::from(body), opts)
            .await
        {
            Ok(_) => {}
            Err(object_store::Error::AlreadyExists { .. }) => {
                return Err(ManifestError::Conflict {
                    collection: m.spec.name.clone(),
                    version: m.version,
                })
            }
            Err(e) => return Err(e.into()),
        }
        if m.version > KEEP_VERSIONS {
            self.prune(&m.spec.name, m.version - KEEP_VERSIONS).await;
        }
        Ok(())
    }

    /// Best-effort removal of manifest versions below `below`.
    async fn prune(&self, name: &str, below: u64) {
        let Ok(versions) = self.versions(name).await else {
            return;
        };
        for v in versions.into_iter().filter(|v| *v < below) {
            if let Err(e) = self.store.delete(&manifest_path(name, v)).await {
                tracing::debug!(collection = name, version = v, error = %e, "manifest prune failed");
            }
        }
    }

    /// Names of every collection with at least one manifest.
    pub async fn list_collections(&self) -> Result<Vec<String>, ManifestError> {
        let res = self
            .store
            .list_with_delimiter(Some(&Path::from("collections")))
            .await?;
        let mut names: Vec<String> = res
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_string))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Deletes every object of a collection, manifests first so a crash midway leaves no
    /// half-visible collection behind (only unreferenced segment objects).
    pub async fn delete_collection(&self, name: &str) -> Result<(), ManifestError> {
        for v in self.versions(name).await? {
            self.store.delete(&manifest_path(name, v)).await?;
        }
        let prefix = collection_prefix(name);
        let rest: Vec<_> = self.store.list(Some(&prefix)).try_collect().await?;
        for meta in rest {
            match self.store.delete(&meta.location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::local::LocalFileSystem;

    fn spec(name: &str) -> CollectionSpec {
        CollectionSpec {
            name: name.into(),
            dimension: 4,
            metric: Metric::L2,
            index: IndexSpec::Flat,
            tiering: Tiering::Memory,
        }
    }

    fn store() -> (tempfile::TempDir, ManifestStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let fs = LocalFileSystem::new_with_prefix(dir.path())
            .expect("fs")
            .with_automatic_cleanup(true);
        (dir, ManifestStore::new(Arc::new(fs)))
    }

    #[tokio::test]
    async fn latest_is_the_highest_committed_version() {
        let (_d, ms) = store();
        assert!(ms.latest("c").await.expect("latest").is_none());
        let mut m = Manifest::initial(spec("c"));
        ms.commit(&m).await.expect("v1");
        m.version = 2;
        m.wal_lsn = 42;
        ms.commit(&m).await.expect("v2");
        let got = ms.latest("c").await.expect("latest").expect("some");
        assert_eq!((got.version, got.wal_lsn), (2, 42));
        assert_eq!(ms.list_collections().await.expect("list"), vec!["c"]);
    }

    #[tokio::test]
    async fn second_writer_of_a_version_gets_a_conflict_and_changes_nothing() {
        let (_d, ms) = store();
        let mut a = Manifest::initial(spec("c"));
        ms.commit(&a).await.expect("v1");
        a.version = 2;
        a.wal_lsn = 1;
        let mut b = a.clone();
        b.wal_lsn = 999;
        ms.commit(&a).await.expect("a wins");
        let err = ms.commit(&b).await.expect_err("b loses");
        assert!(matches!(err, ManifestError::Conflict { version: 2, .. }));
        let got = ms.latest("c").await.expect("latest").expect("some");
        assert_eq!(got.wal_lsn, 1);
    }

    #[tokio::test]
    async fn old_versions_are_pruned_and_delete_removes_everything() {
        let (_d, ms) = store();
        let mut m = Manifest::initial(spec("c"));
        for v in 1..=KEEP_VERSIONS + 5 {
            m.version = v;
            ms.commit(&m).await.expect("commit");
        }
        assert_eq!(
            ms.versions("c").await.expect("v").len() as u64,
            KEEP_VERSIONS + 1
        );
        ms.delete_collection("c").await.expect("delete");
        assert!(ms.latest("c").await.expect("latest").is_none());
        assert!(ms.list_collections().await.expect("list").is_empty());
    }
}
