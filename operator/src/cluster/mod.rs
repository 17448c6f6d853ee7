//! The AkiCluster controller. A reconcile is a pipeline of small steps, one file each:
//! [`dereference`] (read referenced Secrets) → [`validate`] (pure) → [`build`] (pure desired
//! children) → [`crate::apply`] (server-side apply, skipped when nothing changed) → [`status`].

pub mod build;
pub mod dereference;
pub mod status;
pub mod validate;

use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::Api;
use kube::core::NamespaceResourceScope;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::EventType;
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::apply::{ensure, Outcome};
use crate::conditions::{find, now, DEGRADED};
use crate::context::Context;
use crate::crd::AkiCluster;
use crate::labels::MANAGED_BY_SELECTOR;
use crate::{Error, Result};

/// Label value of this controller in metrics and logs.
pub const CONTROLLER: &str = "akicluster";
/// Resync of a healthy cluster (a safety net; watches deliver changes immediately).
const RESYNC: std::time::Duration = std::time::Duration::from_secs(300);
/// Recheck of a cluster whose pods are still coming up (progress deadline).
const PROGRESS_CHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// Reconciles one AkiCluster.
pub async fn reconcile(cluster: Arc<AkiCluster>, ctx: Arc<Context>) -> Result<Action> {
    let _timer = ctx.metrics.reconcile_started(CONTROLLER);
    let ns = cluster
        .namespace()
        .ok_or(Error::MissingMetadata("metadata.namespace"))?;
    let api: Api<AkiCluster> = Api::namespaced(ctx.client.clone(), &ns);
    let oref = cluster.object_ref(&());

    let refs = dereference::dereference(&ctx.client, &cluster, &ns).await?;
    if let Err(invalid) = validate::validate(&cluster, &refs) {
        let st = status::desired(&cluster, status::Observed::Invalid(&invalid), &now());
        if degraded_reason_changed(&cluster, invalid.reason) {
            ctx.event(
                &oref,
                EventType::Warning,
                invalid.reason,
                "Validate",
                invalid.message.clone(),
            )
            .await;
        }
        status::write(&api, &cluster, st).await?;
        tracing::info!(cluster = %cluster.name_any(), reason = invalid.reason, "cluster spec not usable");
        return Ok(if invalid.spec_error {
            Action::await_change()
        } else {
            Action::requeue(ctx.wait_interval)
        });
    }

    let desired = build::build(&cluster)?;
    let sts = match apply_all(&ctx, &ns, &oref, desired).await {
        Ok(sts) => sts,
        Err(e) => {
            let msg = e.to_string();
            if degraded_reason_changed(&cluster, "ApplyFailed") {
                ctx.event(
                    &oref,
                    EventType::Warning,
                    "ApplyFailed",
                    "Apply",
                    msg.clone(),
                )
                .await;
            }
            let st = status::desired(&cluster, status::Observed::ApplyFailed(msg), &now());
            if let Err(se) = status::write(&api, &cluster, st).await {
                tracing::warn!(error = %se, "could not record the apply failure in status");
            }
            return Err(e);
        }
    };
    let st = status::desired(&cluster, status::Observed::Applied(&sts), &now());
    let ready = crate::conditions::is_true(&st.conditions, crate::conditions::READY);
    status::write(&api, &cluster, st).await?;
    ctx.backoff.reset(&key(&cluster));
    Ok(Action::requeue(if ready { RESYNC } else { PROGRESS_CHECK }))
}

/// Applies every child; returns the live active StatefulSet.
async fn apply_all(
    ctx: &Context,
    ns: &str,
    oref: &k8s_openapi::api::core::v1::ObjectReference,
    d: build::Desired,
) -> Result<StatefulSet> {
    apply_one(ctx, ns, oref, d.config_map).await?;
    apply_one(ctx, ns, oref, d.headless_service).await?;
    apply_one(ctx, ns, oref, d.client_service).await?;
    let sts = apply_one(ctx, ns, oref, d.statefulset).await?;
    apply_one(ctx, ns, oref, d.pdb).await?;
    Ok(sts)
}

async fn apply_one<K>(
    ctx: &Context,
    ns: &str,
    oref: &k8s_openapi::api::core::v1::ObjectReference,
    obj: K,
) -> Result<K>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Serialize
        + DeserializeOwned
        + Clone
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(ctx.client.clone(), ns);
    let kind = K::kind(&()).to_string();
    let name = obj.name_any();
    let (outcome, live) = ensure(&api, obj).await?;
    let (reason, verb) = match outcome {
        Outcome::Created => ("Created", "created"),
        Outcome::Updated => ("Updated", "updated"),
        Outcome::Unchanged => return Ok(live),
    };
    tracing::info!(%kind, %name, outcome = verb, "applied child object");
    ctx.event(
        oref,
        EventType::Normal,
        reason,
        "Apply",
        format!("{kind} {name} {verb}"),
    )
    .await;
    Ok(live)
}

fn degraded_reason_changed(cluster: &AkiCluster, reason: &str) -> bool {
    let conds = cluster
        .status
        .as_ref()
        .map(|s| s.conditions.as_slice())
        .unwrap_or_default();
    find(conds, DEGRADED).is_none_or(|c| c.reason != reason || c.status != "True")
}

fn key(cluster: &AkiCluster) -> String {
    format!(
        "{}/{}",
        cluster.namespace().unwrap_or_default(),
        cluster.name_any()
    )
}

/// Requeue with exponential backoff after a failed reconcile.
pub fn error_policy(cluster: Arc<AkiCluster>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.metrics.reconcile_failed(CONTROLLER, error);
    tracing::warn!(cluster = %cluster.name_any(), error = %error, "reconcile failed");
    ctx.backoff.action(&key(&cluster))
}

/// Runs the controller until `shutdown` resolves. Watches AkiClusters, and only the children
/// labelled as managed by the operator.
pub async fn run(
    ctx: Arc<Context>,
    namespace: Option<String>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let client = ctx.client.clone();
    let owned = watcher::Config::default().labels(MANAGED_BY_SELECTOR);
    Controller::new(
        scoped::<AkiCluster>(&client, &namespace),
        watcher::Config::default(),
    )
    .owns(scoped::<StatefulSet>(&client, &namespace), owned.clone())
    .owns(scoped::<Service>(&client, &namespace), owned.clone())
    .owns(scoped::<ConfigMap>(&client, &namespace), owned.clone())
    .owns(scoped::<PodDisruptionBudget>(&client, &namespace), owned)
    .graceful_shutdown_on(shutdown)
    .run(reconcile, error_policy, ctx)
    .for_each(|res| async move {
        if let Err(e) = res {
            tracing::debug!(error = %e, "cluster controller event");
        }
    })
    .await;
}

/// An Api over one namespace, or all of them.
pub fn scoped<K>(client: &kube::Client, namespace: &Option<String>) -> Api<K>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}
