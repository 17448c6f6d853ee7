//! Talking to the data plane: create/update a collection (the finalizer's Apply) and delete it
//! (the finalizer's Cleanup). A data plane that is down gives a condition and a retry.

use std::sync::Arc;
use std::time::Duration;

use akidb_client::{AkiClient, ClientError};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, Resource, ResourceExt};

use super::status::{self, ready_reason};
use super::validate::{create_request, diff, Diff};
use crate::conditions::{find, READY};
use crate::context::Context;
use crate::crd::collection::DeletionPolicy;
use crate::crd::{AkiCluster, AkiCollection};
use crate::{Error, Result};

/// Timeout of one request to the data plane.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The cluster a collection refers to, when it exists and is not being deleted.
async fn referenced_cluster(
    ctx: &Context,
    col: &AkiCollection,
    ns: &str,
) -> Result<Option<AkiCluster>> {
    let api: Api<AkiCluster> = Api::namespaced(ctx.client.clone(), ns);
    let cluster = api.get_opt(&col.spec.cluster_ref.name).await?;
    Ok(cluster.filter(|c| c.metadata.deletion_timestamp.is_none()))
}

fn client_for(ctx: &Context, ns: &str, cluster: &str) -> Result<AkiClient> {
    AkiClient::with_timeout(&ctx.resolver.url(ns, cluster), REQUEST_TIMEOUT)
        .map_err(Error::DataPlane)
}

/// Records `Ready=False` with `reason` (and a warning event when the reason is new).
async fn not_ready(
    ctx: &Context,
    api: &Api<AkiCollection>,
    col: &AkiCollection,
    reason: &str,
    msg: String,
    warn: bool,
) -> Result<()> {
    if warn && ready_reason(col) != Some(reason) {
        ctx.event(
            &col.object_ref(&()),
            EventType::Warning,
            reason,
            "Sync",
            msg.clone(),
        )
        .await;
    }
    status::write(api, col, status::not_ready(col, reason, msg)).await?;
    Ok(())
}

/// Makes the data plane's collection match the spec.
pub async fn apply(col: Arc<AkiCollection>, ctx: Arc<Context>) -> Result<Action> {
    let ns = col
        .namespace()
        .ok_or(Error::MissingMetadata("metadata.namespace"))?;
    let api: Api<AkiCollection> = Api::namespaced(ctx.client.clone(), &ns);
    let cluster_name = col.spec.cluster_ref.name.clone();

    let Some(cluster) = referenced_cluster(&ctx, &col, &ns).await? else {
        let msg = format!("AkiCluster {cluster_name:?} does not exist in namespace {ns:?}; create it or fix spec.clusterRef.name");
        not_ready(&ctx, &api, &col, "ClusterNotFound", msg, true).await?;
        return Ok(Action::requeue(ctx.wait_interval));
    };
    let conds = cluster
        .status
        .as_ref()
        .map(|s| s.conditions.as_slice())
        .unwrap_or_default();
    match find(conds, READY) {
        Some(c) if c.status == "True" => {}
        other => {
            let why = other
                .map(|c| format!(" (its Ready condition: {}: {})", c.reason, c.message))
                .unwrap_or_default();
            let msg = format!("waiting for AkiCluster {cluster_name:?} to become Ready{why}");
            not_ready(&ctx, &api, &col, "ClusterNotReady", msg, false).await?;
            return Ok(Action::requeue(ctx.wait_interval));
        }
    }
    if cluster.spec.tls.is_some() || cluster.spec.auth.is_some() {
        let msg = format!("AkiCluster {cluster_name:?} uses TLS or API keys, which the operator's data-plane client does not support yet");
        not_ready(&ctx, &api, &col, "Unsupported", msg, true).await?;
        return Ok(Action::await_change());
    }
    let want = match create_request(&col, cluster.spec.tiering) {
        Ok(w) => w,
        Err(inv) => {
            not_ready(&ctx, &api, &col, inv.reason, inv.message, true).await?;
            return Ok(Action::await_change());
        }
    };
    let tiering = crate::crd::Tiering::from_wire(want.tiering);
    if tiering.needs_object_store() && cluster.spec.object_store.is_none() {
        let msg = format!("tiering {tiering:?} needs object storage, but AkiCluster {cluster_name:?} has no spec.objectStore; use tiering memory or configure a bucket");
        not_ready(&ctx, &api, &col, "ObjectStoreRequired", msg, true).await?;
        return Ok(Action::await_change());
    }

    let client = client_for(&ctx, &ns, &cluster_name)?;
    let oref = col.object_ref(&());
    let live = match client.get_collection(&want.name).await {
        Ok(info) => info,
        Err(e) if e.code() == Some("collection_not_found") => {
            match client.create_collection(&want).await {
                Ok(info) => {
                    ctx.event(
                        &oref,
                        EventType::Normal,
                        "Created",
                        "Sync",
                        format!(
                            "created collection {:?} in AkiCluster {cluster_name:?}",
                            want.name
                        ),
                    )
                    .await;
                    info
                }
                Err(e) if e.code() == Some("collection_exists") => client
                    .get_collection(&want.name)
                    .await
                    .map_err(Error::DataPlane)?,
                Err(e) => return data_plane_failed(&ctx, &api, &col, e).await,
            }
        }
        Err(e) => return data_plane_failed(&ctx, &api, &col, e).await,
    };
    let live = match diff(&want, &live) {
        Diff::InSync => live,
        Diff::Immutable(msg) => {
            not_ready(&ctx, &api, &col, "ImmutableFieldChanged", msg, true).await?;
            return Ok(Action::await_change());
        }
        Diff::Update(update) => match client.update_collection(&want.name, &update).await {
            Ok(info) => {
                ctx.event(
                    &oref,
                    EventType::Normal,
                    "Updated",
                    "Sync",
                    format!("updated collection {:?}", want.name),
                )
                .await;
                info
            }
            Err(e) if e.code() == Some("immutable_field") => {
                let msg = format!("the data plane refused the change to collection {:?}: {e}; restore the old values or create a new AkiCollection", want.name);
                not_ready(&ctx, &api, &col, "ImmutableFieldChanged", msg, true).await?;
                return Ok(Action::await_change());
            }
            Err(e) => return data_plane_failed(&ctx, &api, &col, e).await,
        },
    };
    status::write(&api, &col, status::ready(&col, &live)).await?;
    Ok(Action::requeue(ctx.refresh_interval))
}

/// Records `DataPlaneUnavailable` (transport) or `DataPlaneError` (an error answer) and fails the
/// reconcile, so it is retried with backoff.
async fn data_plane_failed(
    ctx: &Context,
    api: &Api<AkiCollection>,
    col: &AkiCollection,
    e: ClientError,
) -> Result<Action> {
    let (reason, msg) = match &e {
        ClientError::Api { .. } => (
            "DataPlaneError",
            format!("the data plane answered: {e}; retrying with backoff"),
        ),
        _ => (
            "DataPlaneUnavailable",
            format!("could not reach the data plane: {e}; retrying with backoff"),
        ),
    };
    not_ready(ctx, api, col, reason, msg, true).await?;
    Err(Error::DataPlane(e))
}

/// Runs before the finalizer is removed: deletes the collection when the policy says so. Any
/// failure keeps the finalizer, so the collection is never forgotten while it still exists.
pub async fn cleanup(col: Arc<AkiCollection>, ctx: Arc<Context>) -> Result<Action> {
    let ns = col
        .namespace()
        .ok_or(Error::MissingMetadata("metadata.namespace"))?;
    let api: Api<AkiCollection> = Api::namespaced(ctx.client.clone(), &ns);
    let name = col.collection_name();
    let oref = col.object_ref(&());
    if col.spec.deletion_policy == DeletionPolicy::Retain {
        ctx.event(
            &oref,
            EventType::Normal,
            "Retained",
            "Delete",
            format!("deletionPolicy is Retain: collection {name:?} and its data are kept"),
        )
        .await;
        return Ok(Action::await_change());
    }
    let cluster_name = col.spec.cluster_ref.name.clone();
    if referenced_cluster(&ctx, &col, &ns).await?.is_none() {
        let msg = format!(
            "AkiCluster {cluster_name:?} is gone; nothing to delete collection {name:?} from"
        );
        ctx.event(&oref, EventType::Warning, "ClusterGone", "Delete", msg)
            .await;
        return Ok(Action::await_change());
    }
    let client = client_for(&ctx, &ns, &cluster_name)?;
    match client.delete_collection(&name).await {
        Ok(()) => {}
        Err(e) if e.code() == Some("collection_not_found") => {}
        Err(e) => {
            let msg = format!(
                "could not delete collection {name:?}: {e}; the finalizer stays until it succeeds"
            );
            not_ready(&ctx, &api, &col, "DeleteFailed", msg, true).await?;
            return Err(Error::DataPlane(e));
        }
    }
    ctx.event(
        &oref,
        EventType::Normal,
        "Deleted",
        "Delete",
        format!("deleted collection {name:?} and its data"),
    )
    .await;
    Ok(Action::await_change())
}
