//! Step 1: fetch what the spec refers to (Secrets), so that validation can stay pure.
//! Only the key names are kept; secret values never leave this function.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaimSpec, Secret};
use kube::{Api, Client};

use crate::crd::AkiCluster;
use crate::Result;

/// Referenced Secrets by name: `Some(keys)` when present, `None` when missing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Referenced {
    pub secrets: BTreeMap<String, Option<BTreeSet<String>>>,
    /// The data claim template of the active StatefulSet, when it exists (it cannot change).
    pub live_claim: Option<PersistentVolumeClaimSpec>,
}

/// Names of every Secret the spec refers to.
pub fn secret_names(cluster: &AkiCluster) -> BTreeSet<String> {
    let s = &cluster.spec;
    let mut names = BTreeSet::new();
    if let Some(c) = s
        .object_store
        .as_ref()
        .and_then(|o| o.credentials_secret.as_ref())
    {
        names.insert(c.name.clone());
    }
    if let Some(t) = &s.tls {
        names.insert(t.secret_name.clone());
    }
    if let Some(a) = &s.auth {
        names.insert(a.api_keys_secret.clone());
    }
    names
}

pub async fn dereference(
    client: &Client,
    cluster: &AkiCluster,
    namespace: &str,
) -> Result<Referenced> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let mut secrets = BTreeMap::new();
    for name in secret_names(cluster) {
        let keys = api.get_opt(&name).await?.map(|s| {
            let mut keys: BTreeSet<String> = s.data.unwrap_or_default().into_keys().collect();
            keys.extend(s.string_data.unwrap_or_default().into_keys());
            keys
        });
        secrets.insert(name, keys);
    }
    let sts_api: Api<StatefulSet> = Api::namespaced(client.clone(), namespace);
    let sts_name = crate::labels::statefulset_name(cluster, &crate::labels::active_color(cluster));
    let live_claim = sts_api
        .get_opt(&sts_name)
        .await?
        .and_then(|s| s.spec)
        .and_then(|s| s.volume_claim_templates)
        .and_then(|t| {
            t.into_iter()
                .find(|c| c.metadata.name.as_deref() == Some("data"))
        })
        .and_then(|c| c.spec);
    Ok(Referenced {
        secrets,
        live_claim,
    })
}
