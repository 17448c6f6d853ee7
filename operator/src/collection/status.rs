//! Status of an AkiCollection, written only when it changed.

use akidb_client::CollectionInfo;
use kube::api::{Patch, PatchParams};
use kube::Api;
use serde_json::json;

use crate::conditions::{condition, merge, now, READY};
use crate::crd::collection::TierBytes;
use crate::crd::{AkiCollection, AkiCollectionStatus};
use crate::labels::FIELD_MANAGER;
use crate::{Error, Result};

/// Status with `Ready=False` for `reason`, keeping the last known counts.
pub fn not_ready(col: &AkiCollection, reason: &str, message: String) -> AkiCollectionStatus {
    let old = col.status.clone().unwrap_or_default();
    let gen = col.metadata.generation;
    AkiCollectionStatus {
        observed_generation: gen,
        conditions: merge(
            &old.conditions,
            vec![condition(READY, false, reason, message, gen)],
            &now(),
        ),
        collection_name: Some(col.collection_name()),
        ..old
    }
}

/// Status of a collection that matches its spec, with the data plane's counts.
pub fn ready(col: &AkiCollection, info: &CollectionInfo) -> AkiCollectionStatus {
    let old = col.status.clone().unwrap_or_default();
    let gen = col.metadata.generation;
    let msg = format!("collection {:?} is in sync with the data plane", info.name);
    AkiCollectionStatus {
        observed_generation: gen,
        conditions: merge(
            &old.conditions,
            vec![condition(READY, true, "Synced", msg, gen)],
            &now(),
        ),
        collection_name: Some(info.name.clone()),
        records: info.records,
        segments: info.segments,
        bytes: TierBytes {
            memory: info.bytes.memory,
            disk: info.bytes.disk,
            object_store: info.bytes.object_store,
        },
    }
}

/// The current Ready reason, if any.
pub fn ready_reason(col: &AkiCollection) -> Option<&str> {
    let conds = col
        .status
        .as_ref()
        .map(|s| s.conditions.as_slice())
        .unwrap_or_default();
    crate::conditions::find(conds, READY).map(|c| c.reason.as_str())
}

/// Writes `status` with server-side apply unless it equals the current one.
pub async fn write(
    api: &Api<AkiCollection>,
    col: &AkiCollection,
    status: AkiCollectionStatus,
) -> Result<bool> {
    if col.status.as_ref() == Some(&status) {
        return Ok(false);
    }
    let name = col
        .metadata
        .name
        .as_deref()
        .ok_or(Error::MissingMetadata("metadata.name"))?;
    let patch =
        json!({"apiVersion": "akidb.io/v1alpha1", "kind": "AkiCollection", "status": status});
    let params = PatchParams::apply(FIELD_MANAGER).force();
    api.patch_status(name, &params, &Patch::Apply(&patch))
        .await
        .map_err(|e| Error::StatusPatchFailed(Box::new(e)))?;
    Ok(true)
}
