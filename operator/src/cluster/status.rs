//! Step 5: the status of an AkiCluster from what was observed, and writing it only when it changed.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Patch, PatchParams};
use kube::Api;
use serde_json::json;

use super::validate::Invalid;
use crate::conditions::{condition, find, merge, DEGRADED, PROGRESSING, READY};
use crate::crd::{AkiCluster, AkiClusterStatus};
use crate::labels::{active_color, FIELD_MANAGER};
use crate::{Error, Result};

/// What the reconcile saw.
pub enum Observed<'a> {
    /// The spec or a referenced Secret is not usable.
    Invalid(&'a Invalid),
    /// Applying the children failed (the message is the error).
    ApplyFailed(String),
    /// The children are applied; the active StatefulSet as it is now.
    Applied(&'a StatefulSet),
}

/// The status to write: conditions merged with the existing ones (transition times kept).
pub fn desired(cluster: &AkiCluster, observed: Observed<'_>, now: &Time) -> AkiClusterStatus {
    let gen = cluster.metadata.generation;
    let old = cluster.status.clone().unwrap_or_default();
    let mut status = AkiClusterStatus {
        observed_generation: gen,
        conditions: Vec::new(),
        ready_replicas: old.ready_replicas,
        active_color: Some(active_color(cluster)),
        current_version: old.current_version.clone(),
        target_version: Some(cluster.spec.version.clone()),
        endpoint: Some(endpoint(cluster)),
    };
    let conditions = match observed {
        Observed::Invalid(inv) => vec![
            condition(READY, false, inv.reason, inv.message.clone(), gen),
            condition(
                PROGRESSING,
                false,
                inv.reason,
                "blocked until the problem is fixed",
                gen,
            ),
            condition(DEGRADED, true, inv.reason, inv.message.clone(), gen),
        ],
        Observed::ApplyFailed(msg) => vec![
            condition(
                READY,
                false,
                "ApplyFailed",
                format!("could not apply child objects: {msg}"),
                gen,
            ),
            condition(
                PROGRESSING,
                false,
                "ApplyFailed",
                "retrying with backoff",
                gen,
            ),
            condition(
                DEGRADED,
                true,
                "ApplyFailed",
                format!("could not apply child objects: {msg}; check the operator's RBAC and logs"),
                gen,
            ),
        ],
        Observed::Applied(sts) => {
            let (ready, conds) = from_statefulset(cluster, sts, &old.conditions, now);
            status.ready_replicas = ready.ready;
            if ready.rolled_out {
                status.current_version = Some(cluster.spec.version.clone());
            }
            conds
        }
    };
    status.conditions = merge(&old.conditions, conditions, now);
    status
}

struct Readiness {
    ready: i32,
    rolled_out: bool,
}

fn from_statefulset(
    cluster: &AkiCluster,
    sts: &StatefulSet,
    old: &[Condition],
    now: &Time,
) -> (Readiness, Vec<Condition>) {
    let gen = cluster.metadata.generation;
    let want = cluster.spec.replicas;
    let st = sts.status.clone().unwrap_or_default();
    let ready = st.ready_replicas.unwrap_or(0);
    let updated = st.updated_replicas.unwrap_or(0);
    let seen = st.observed_generation.unwrap_or(0) >= sts.metadata.generation.unwrap_or(0)
        && sts.status.is_some();
    let revisions_match = match (&st.current_revision, &st.update_revision) {
        (Some(c), Some(u)) => c == u,
        _ => true,
    };
    let rolled_out = seen && updated >= want && st.replicas <= want && revisions_match;
    let r = Readiness { ready, rolled_out };
    if rolled_out && ready >= want {
        let msg = format!("{ready}/{want} replicas ready");
        return (
            r,
            vec![
                condition(READY, true, "AllReplicasReady", msg, gen),
                condition(
                    PROGRESSING,
                    false,
                    "RolloutComplete",
                    format!("all {want} replicas run the current spec"),
                    gen,
                ),
                condition(DEGRADED, false, "AsExpected", "no problems detected", gen),
            ],
        );
    }
    let (reason, msg) = if st.replicas == 0 && ready == 0 && !seen {
        ("Creating", format!("creating {want} data-plane pod(s)"))
    } else if !rolled_out {
        (
            "RollingOut",
            format!("{updated}/{want} pods updated, {ready} ready"),
        )
    } else {
        (
            "WaitingForReplicas",
            format!("{ready}/{want} replicas ready"),
        )
    };
    let sel = format!(
        "app.kubernetes.io/instance={}",
        cluster.metadata.name.as_deref().unwrap_or_default()
    );
    let deadline = i64::from(cluster.spec.rollout.progress_deadline_seconds);
    let since = find(old, PROGRESSING)
        .filter(|c| c.status == "True")
        .map(|c| c.last_transition_time.0.as_second());
    let overdue = since.is_some_and(|t| now.0.as_second() - t > deadline);
    let degraded = if overdue {
        condition(
            DEGRADED,
            true,
            "ProgressDeadlineExceeded",
            format!("{msg} after more than {deadline}s; see `kubectl describe pods -l {sel}` and the pods' logs"),
            gen,
        )
    } else {
        condition(DEGRADED, false, "AsExpected", "no problems detected", gen)
    };
    (
        r,
        vec![
            condition(
                READY,
                false,
                reason,
                format!("{msg}; waiting for pods to pass /readyz"),
                gen,
            ),
            condition(PROGRESSING, true, reason, msg, gen),
            degraded,
        ],
    )
}

/// In-cluster URL of the client Service.
pub fn endpoint(cluster: &AkiCluster) -> String {
    format!(
        "http://{}.{}.svc:{}",
        cluster.metadata.name.as_deref().unwrap_or_default(),
        cluster.metadata.namespace.as_deref().unwrap_or("default"),
        crate::labels::HTTP_PORT
    )
}

/// Writes `status` with server-side apply, unless it equals the current one. Returns whether it wrote.
pub async fn write(
    api: &Api<AkiCluster>,
    cluster: &AkiCluster,
    status: AkiClusterStatus,
) -> Result<bool> {
    if cluster.status.as_ref() == Some(&status) {
        return Ok(false);
    }
    let name = cluster
        .metadata
        .name
        .as_deref()
        .ok_or(Error::MissingMetadata("metadata.name"))?;
    let patch = json!({
        "apiVersion": "akidb.io/v1alpha1",
        "kind": "AkiCluster",
        "status": status,
    });
    let params = PatchParams::apply(FIELD_MANAGER).force();
    api.patch_status(name, &params, &Patch::Apply(&patch))
        .await
        .map_err(|e| Error::StatusPatchFailed(Box::new(e)))?;
    Ok(true)
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
