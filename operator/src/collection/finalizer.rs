//! The collection finalizer. Added before the first call to the data plane, removed only after a
//! successful cleanup, so a collection is never forgotten while it may still exist.
//!
//! Both edits are merge patches that carry the object's `resourceVersion`, so they fail with a
//! conflict (and the reconcile is retried) if the object changed in between.

use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use crate::crd::collection::FINALIZER;
use crate::crd::AkiCollection;
use crate::{Error, Result};

pub fn has_finalizer(col: &AkiCollection) -> bool {
    col.finalizers().iter().any(|f| f == FINALIZER)
}

/// Adds the finalizer; returns the object as stored afterwards.
pub async fn add(api: &Api<AkiCollection>, col: &AkiCollection) -> Result<AkiCollection> {
    let mut finalizers = col.finalizers().to_vec();
    finalizers.push(FINALIZER.to_string());
    patch(api, col, finalizers).await
}

/// Removes the finalizer (the API server then deletes the object if it was being deleted).
pub async fn remove(api: &Api<AkiCollection>, col: &AkiCollection) -> Result<()> {
    let finalizers: Vec<String> = col
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER)
        .cloned()
        .collect();
    patch(api, col, finalizers).await.map(|_| ())
}

async fn patch(
    api: &Api<AkiCollection>,
    col: &AkiCollection,
    finalizers: Vec<String>,
) -> Result<AkiCollection> {
    let name = col
        .metadata
        .name
        .as_deref()
        .ok_or(Error::MissingMetadata("metadata.name"))?;
    let body =
        json!({"metadata": {"finalizers": finalizers, "resourceVersion": col.resource_version()}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&body))
        .await
        .map_err(|e| Error::Finalizer(Box::new(e)))
}
