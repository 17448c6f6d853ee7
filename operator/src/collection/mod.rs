//! The AkiCollection controller: resolves `clusterRef` to the cluster's client Service, waits until
//! the cluster is Ready, creates or updates the collection over REST, keeps record counts in status,
//! and deletes the collection through a finalizer when `deletionPolicy: Delete`.

pub mod finalizer;
pub mod status;
pub mod sync;
pub mod validate;

use std::sync::Arc;

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::ResourceExt;

use crate::cluster::scoped;
use crate::context::Context;
use crate::crd::{AkiCluster, AkiCollection};
use crate::{Error, Result};

/// Label value of this controller in metrics and logs.
pub const CONTROLLER: &str = "akicollection";

/// Reconciles one AkiCollection.
pub async fn reconcile(col: Arc<AkiCollection>, ctx: Arc<Context>) -> Result<Action> {
    let _timer = ctx.metrics.reconcile_started(CONTROLLER);
    let ns = col
        .namespace()
        .ok_or(Error::MissingMetadata("metadata.namespace"))?;
    let api: Api<AkiCollection> = Api::namespaced(ctx.client.clone(), &ns);
    let action = if col.metadata.deletion_timestamp.is_some() {
        if !finalizer::has_finalizer(&col) {
            return Ok(Action::await_change());
        }
        let action = sync::cleanup(col.clone(), ctx.clone()).await?;
        finalizer::remove(&api, &col).await?;
        action
    } else if finalizer::has_finalizer(&col) {
        sync::apply(col.clone(), ctx.clone()).await?
    } else {
        let stored = finalizer::add(&api, &col).await?;
        sync::apply(Arc::new(stored), ctx.clone()).await?
    };
    ctx.backoff.reset(&key(&col));
    Ok(action)
}

fn key(col: &AkiCollection) -> String {
    format!("{}/{}", col.namespace().unwrap_or_default(), col.name_any())
}

/// Requeue with exponential backoff after a failed reconcile.
pub fn error_policy(col: Arc<AkiCollection>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.metrics.reconcile_failed(CONTROLLER, error);
    tracing::warn!(collection = %col.name_any(), error = %error, "reconcile failed");
    ctx.backoff.action(&key(&col))
}

/// Runs the controller until `shutdown` resolves. A change to an AkiCluster (e.g. it became Ready)
/// triggers the collections that refer to it.
pub async fn run(
    ctx: Arc<Context>,
    namespace: Option<String>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let client = ctx.client.clone();
    let controller = Controller::new(
        scoped::<AkiCollection>(&client, &namespace),
        watcher::Config::default(),
    );
    let store = controller.store();
    controller
        .watches(
            scoped::<AkiCluster>(&client, &namespace),
            watcher::Config::default(),
            move |cluster| {
                let ns = cluster.namespace();
                let name = cluster.name_any();
                store
                    .state()
                    .into_iter()
                    .filter(|c| c.namespace() == ns && c.spec.cluster_ref.name == name)
                    .map(|c| ObjectRef::from_obj(&*c))
                    .collect::<Vec<_>>()
            },
        )
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(error = %e, "collection controller event");
            }
        })
        .await;
}
