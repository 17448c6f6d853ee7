//! The PodDisruptionBudget: at most one data-plane pod of the active colour down at a time, which
//! never blocks a node drain even with one replica.

use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::child_meta;
use crate::crd::AkiCluster;
use crate::labels::{active_color, color_selector, pdb_name};
use crate::Result;

pub fn build(cluster: &AkiCluster) -> Result<PodDisruptionBudget> {
    Ok(PodDisruptionBudget {
        metadata: child_meta(cluster, pdb_name(cluster))?,
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector {
                match_labels: Some(color_selector(cluster, &active_color(cluster))),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixtures::{cluster, ClusterFixture};

    #[test]
    fn pdb_allows_one_pod_down_and_selects_the_active_colour() {
        let pdb = build(&cluster("a").with_replicas(3)).expect("build");
        let spec = pdb.spec.expect("spec");
        assert_eq!(spec.max_unavailable, Some(IntOrString::Int(1)));
        assert_eq!(spec.min_available, None);
        let sel = spec
            .selector
            .and_then(|s| s.match_labels)
            .expect("selector");
        assert_eq!(sel.get("akidb.io/color").map(String::as_str), Some("blue"));
        assert_eq!(
            sel.get("app.kubernetes.io/instance").map(String::as_str),
            Some("a")
        );
    }
}
