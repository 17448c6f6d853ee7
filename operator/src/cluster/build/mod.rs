//! Desired child objects of an AkiCluster: pure functions of the resource, no client. One file per
//! Kubernetes kind; each is unit-tested beside it.

pub mod config_map;
pub mod pdb;
pub mod service;
pub mod statefulset;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::Resource;

use crate::config;
use crate::crd::AkiCluster;
use crate::labels::common_labels;
use crate::{Error, Result};

/// Everything an AkiCluster owns, as it should be.
#[derive(Debug, Clone)]
pub struct Desired {
    pub config_map: ConfigMap,
    pub headless_service: Service,
    pub client_service: Service,
    pub statefulset: StatefulSet,
    pub pdb: PodDisruptionBudget,
}

/// Builds every child of `cluster`.
pub fn build(cluster: &AkiCluster) -> Result<Desired> {
    let rendered = config::render(cluster)?;
    Ok(Desired {
        config_map: config_map::build(cluster, &rendered)?,
        headless_service: service::headless(cluster)?,
        client_service: service::client(cluster)?,
        statefulset: statefulset::build(cluster, &rendered)?,
        pdb: pdb::build(cluster)?,
    })
}

/// The controller owner reference pointing at `cluster` (garbage collection, `owns` watches).
pub fn owner_reference(cluster: &AkiCluster) -> Result<OwnerReference> {
    cluster
        .controller_owner_ref(&())
        .ok_or(Error::MissingMetadata("metadata.uid"))
}

/// Metadata of a child: name, namespace, the common labels and the owner reference.
pub fn child_meta(cluster: &AkiCluster, name: String) -> Result<ObjectMeta> {
    Ok(ObjectMeta {
        name: Some(name),
        namespace: Some(
            cluster
                .metadata
                .namespace
                .clone()
                .ok_or(Error::MissingMetadata("metadata.namespace"))?,
        ),
        labels: Some(common_labels(cluster)),
        owner_references: Some(vec![owner_reference(cluster)?]),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixtures::cluster;

    #[test]
    fn every_child_is_owned_by_the_cluster_as_controller() {
        let d = build(&cluster("a")).expect("build");
        let metas = [
            &d.config_map.metadata,
            &d.headless_service.metadata,
            &d.client_service.metadata,
            &d.statefulset.metadata,
            &d.pdb.metadata,
        ];
        for m in metas {
            let refs = m.owner_references.as_ref().expect("owner refs");
            assert_eq!(refs.len(), 1);
            assert_eq!(refs[0].kind, "AkiCluster");
            assert_eq!(refs[0].api_version, "akidb.io/v1alpha1");
            assert_eq!(refs[0].uid, "uid-a");
            assert_eq!(refs[0].controller, Some(true));
            assert_eq!(m.namespace.as_deref(), Some("default"));
            let labels = m.labels.as_ref().expect("labels");
            assert_eq!(
                labels
                    .get("app.kubernetes.io/managed-by")
                    .map(String::as_str),
                Some("akidb-operator")
            );
            assert_eq!(
                labels.get("app.kubernetes.io/instance").map(String::as_str),
                Some("a")
            );
        }
    }

    #[test]
    fn a_cluster_without_uid_cannot_own_children() {
        let mut c = cluster("a");
        c.metadata.uid = None;
        assert!(matches!(build(&c), Err(Error::MissingMetadata(_))));
    }
}
