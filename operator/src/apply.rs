//! Server-side apply of child objects that makes no write call when nothing changed.
//!
//! Before applying, the desired object is stamped with `akidb.io/applied-hash` (a hash of itself).
//! The apply is skipped when the live object carries the same hash *and* still contains every
//! field the operator sets (so a `kubectl edit` of an owned field is put back on the next reconcile,
//! while fields added by the API server or other controllers are ignored). A change to the desired
//! object changes the hash, and the apply then also drops fields the operator no longer sets.

use std::fmt::Debug;

use kube::api::{Patch, PatchParams};
use kube::core::NamespaceResourceScope;
use kube::{Api, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::config::short_hash;
use crate::labels::{APPLIED_HASH_ANNOTATION, FIELD_MANAGER};
use crate::{Error, Result};

/// What an apply did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// Applies `desired` unless the live object already matches it. Returns what happened and the
/// live object afterwards.
pub async fn ensure<K>(api: &Api<K>, mut desired: K) -> Result<(Outcome, K)>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Serialize
        + DeserializeOwned
        + Clone
        + Debug,
{
    let name = desired.name_any();
    let kind = K::kind(&()).to_string();
    let fail = |source: kube::Error| Error::ApplyFailed {
        kind: leak_kind(&kind),
        name: name.clone(),
        source: Box::new(source),
    };
    let hash =
        short_hash(&serde_json::to_vec(&desired).map_err(|e| Error::Serialization(e.to_string()))?);
    desired
        .annotations_mut()
        .insert(APPLIED_HASH_ANNOTATION.to_string(), hash);
    let existing = api.get_opt(&name).await.map_err(fail)?;
    if let Some(live) = &existing {
        if up_to_date(&desired, live)? {
            return Ok((Outcome::Unchanged, live.clone()));
        }
    }
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let applied = api
        .patch(&name, &params, &Patch::Apply(&desired))
        .await
        .map_err(fail)?;
    let outcome = if existing.is_some() {
        Outcome::Updated
    } else {
        Outcome::Created
    };
    Ok((outcome, applied))
}

/// True when `live` carries `desired`'s hash and every field `desired` sets.
pub fn up_to_date<K: Serialize + Resource>(desired: &K, live: &K) -> Result<bool> {
    let hash = |o: &K| {
        o.meta()
            .annotations
            .as_ref()
            .and_then(|a| a.get(APPLIED_HASH_ANNOTATION))
            .cloned()
    };
    if hash(desired).is_none() || hash(desired) != hash(live) {
        return Ok(false);
    }
    let d = serde_json::to_value(desired).map_err(|e| Error::Serialization(e.to_string()))?;
    let l = serde_json::to_value(live).map_err(|e| Error::Serialization(e.to_string()))?;
    Ok(is_subset(&d, &l))
}

/// `desired` ⊆ `live`: objects by key, arrays element-wise with equal length, scalars equal.
/// Nulls in `desired` (unset optional fields) match anything.
pub fn is_subset(desired: &Value, live: &Value) -> bool {
    match (desired, live) {
        (Value::Null, _) => true,
        (Value::Object(d), Value::Object(l)) => d
            .iter()
            .all(|(k, dv)| dv.is_null() || l.get(k).is_some_and(|lv| is_subset(dv, lv))),
        (Value::Array(d), Value::Array(l)) => {
            d.len() == l.len() && d.iter().zip(l).all(|(dv, lv)| is_subset(dv, lv))
        }
        (Value::Number(d), Value::Number(l)) => d.as_f64() == l.as_f64(),
        (d, l) => d == l,
    }
}

/// The kinds we apply are a fixed, small set; map them to static names for the error.
fn leak_kind(kind: &str) -> &'static str {
    match kind {
        "ConfigMap" => "ConfigMap",
        "Service" => "Service",
        "StatefulSet" => "StatefulSet",
        "PodDisruptionBudget" => "PodDisruptionBudget",
        _ => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_added_by_the_server_do_not_count_as_drift() {
        let d = json!({"spec": {"ports": [{"port": 8080}], "type": null}});
        let l = json!({"spec": {"ports": [{"port": 8080, "protocol": "TCP"}], "clusterIP": "10.0.0.1"}});
        assert!(is_subset(&d, &l));
    }

    #[test]
    fn a_changed_or_removed_owned_field_counts_as_drift() {
        let d = json!({"spec": {"replicas": 3, "ports": [{"port": 8080}]}});
        assert!(!is_subset(
            &d,
            &json!({"spec": {"replicas": 2, "ports": [{"port": 8080}]}})
        ));
        assert!(!is_subset(
            &d,
            &json!({"spec": {"ports": [{"port": 8080}]}})
        ));
        assert!(!is_subset(
            &d,
            &json!({"spec": {"replicas": 3, "ports": []}})
        ));
    }
}
