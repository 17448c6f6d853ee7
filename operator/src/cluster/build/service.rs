//! The headless Service (stable pod DNS for the StatefulSets, all colours) and the client Service
//! (what users and the operator call; its selector points at the active colour).

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::child_meta;
use crate::crd::AkiCluster;
use crate::labels::{
    active_color, client_service_name, cluster_selector, color_selector, headless_service_name,
    HTTP_PORT,
};
use crate::Result;

fn http_port() -> ServicePort {
    ServicePort {
        name: Some("http".to_string()),
        port: HTTP_PORT,
        target_port: Some(IntOrString::String("http".to_string())),
        protocol: Some("TCP".to_string()),
        app_protocol: Some("http".to_string()),
        ..Default::default()
    }
}

pub fn headless(cluster: &AkiCluster) -> Result<Service> {
    Ok(Service {
        metadata: child_meta(cluster, headless_service_name(cluster))?,
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".to_string()),
            publish_not_ready_addresses: Some(true),
            selector: Some(cluster_selector(cluster)),
            ports: Some(vec![http_port()]),
            ..Default::default()
        }),
        ..Default::default()
    })
}

pub fn client(cluster: &AkiCluster) -> Result<Service> {
    Ok(Service {
        metadata: child_meta(cluster, client_service_name(cluster))?,
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_string()),
            selector: Some(color_selector(cluster, &active_color(cluster))),
            ports: Some(vec![http_port()]),
            ..Default::default()
        }),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::AkiClusterStatus;
    use crate::testing::fixtures::cluster;

    #[test]
    fn headless_service_selects_every_colour_and_publishes_unready_pods() {
        let svc = headless(&cluster("a")).expect("build");
        assert_eq!(svc.metadata.name.as_deref(), Some("a-headless"));
        let spec = svc.spec.expect("spec");
        assert_eq!(spec.cluster_ip.as_deref(), Some("None"));
        assert_eq!(spec.publish_not_ready_addresses, Some(true));
        assert!(!spec
            .selector
            .expect("selector")
            .contains_key("akidb.io/color"));
    }

    #[test]
    fn client_service_is_named_after_the_cluster_and_follows_the_active_colour() {
        let mut c = cluster("a");
        let svc = client(&c).expect("build");
        assert_eq!(svc.metadata.name.as_deref(), Some("a"));
        let spec = svc.spec.expect("spec");
        assert_eq!(spec.ports.expect("ports")[0].port, 8080);
        assert_eq!(
            spec.selector
                .expect("selector")
                .get("akidb.io/color")
                .map(String::as_str),
            Some("blue")
        );

        c.status = Some(AkiClusterStatus {
            active_color: Some("green".into()),
            ..Default::default()
        });
        let sel = client(&c)
            .expect("build")
            .spec
            .and_then(|s| s.selector)
            .expect("selector");
        assert_eq!(sel.get("akidb.io/color").map(String::as_str), Some("green"));
    }
}
