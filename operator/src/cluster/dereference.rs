//! Step 1: fetch what the spec refers to (Secrets), so that validation can stay pure.
//! Only the key names are kept; secret values never leave this function.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};

use crate::crd::AkiCluster;
use crate::Result;

/// Referenced Secrets by name: `Some(keys)` when present, `None` when missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Referenced {
    pub secrets: BTreeMap<String, Option<BTreeSet<String>>>,
}

/// Names of every Secret the spec refers to.
pub fn secret_names(cluster: &AkiCluster) -> BTreeSet<String> {
    let s = &cluster.spec;
    let mut names = BTreeSet::new();
    if let Some(c) = s.object_store.as_ref().and_then(|o| o.credentials_secret.as_ref()) {
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

pub async fn dereference(client: &Client, cluster: &AkiCluster, namespace: &str) -> Result<Referenced> {
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
    Ok(Referenced { secrets })
}
