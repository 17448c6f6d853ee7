use super::*;
use crate::config::render;
use crate::crd::cluster::TlsSpec;
use crate::testing::fixtures::{cluster, ClusterFixture};

fn sts(c: &AkiCluster) -> StatefulSet {
    build(c, &render(c).expect("render")).expect("build")
}

fn container_of(s: &StatefulSet) -> Container {
    s.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .expect("pod spec")
        .containers[0]
        .clone()
}

fn pod_annotations(s: &StatefulSet) -> BTreeMap<String, String> {
    s.spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.annotations.clone())
        .unwrap_or_default()
}

#[test]
fn statefulset_is_named_by_colour_and_served_by_the_headless_service() {
    let s = sts(&cluster("a").with_replicas(3));
    assert_eq!(s.metadata.name.as_deref(), Some("a-blue"));
    let spec = s.spec.expect("spec");
    assert_eq!(spec.replicas, Some(3));
    assert_eq!(spec.service_name.as_deref(), Some("a-headless"));
    let sel = spec.selector.match_labels.expect("selector");
    let pod_labels = spec
        .template
        .metadata
        .and_then(|m| m.labels)
        .expect("labels");
    for (k, v) in &sel {
        assert_eq!(
            pod_labels.get(k),
            Some(v),
            "pod labels must match the selector"
        );
    }
    assert_eq!(
        pod_labels
            .get("app.kubernetes.io/version")
            .map(String::as_str),
        Some("0.1.0")
    );
}

#[test]
fn probes_hit_healthz_and_readyz_on_the_http_port() {
    let c = container_of(&sts(&cluster("a")));
    let path = |p: Option<Probe>| p.and_then(|p| p.http_get).and_then(|h| h.path);
    assert_eq!(path(c.liveness_probe.clone()).as_deref(), Some("/healthz"));
    assert_eq!(path(c.readiness_probe.clone()).as_deref(), Some("/readyz"));
    assert_eq!(path(c.startup_probe.clone()).as_deref(), Some("/healthz"));
    let port = c.ports.expect("ports")[0].clone();
    assert_eq!(
        (port.name.as_deref(), port.container_port),
        (Some("http"), 8080)
    );
}

#[test]
fn container_runs_non_root_with_read_only_root_and_no_capabilities() {
    let s = sts(&cluster("a"));
    let pod = s
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.clone())
        .expect("pod");
    let psc = pod.security_context.expect("pod security context");
    assert_eq!(psc.run_as_non_root, Some(true));
    assert_eq!(psc.run_as_user, Some(RUN_AS));
    assert_eq!(
        psc.seccomp_profile.map(|p| p.type_).as_deref(),
        Some("RuntimeDefault")
    );
    assert_eq!(pod.automount_service_account_token, Some(false));
    let sc = container_of(&s)
        .security_context
        .expect("container security context");
    assert_eq!(sc.read_only_root_filesystem, Some(true));
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    assert_eq!(
        sc.capabilities.and_then(|c| c.drop),
        Some(vec!["ALL".to_string()])
    );
}

#[test]
fn config_is_mounted_as_a_directory_so_edits_propagate() {
    let c = container_of(&sts(&cluster("a")));
    let m = c
        .volume_mounts
        .expect("mounts")
        .into_iter()
        .find(|m| m.name == "config")
        .expect("config mount");
    assert_eq!(m.mount_path, "/etc/akidb");
    assert_eq!(
        m.sub_path, None,
        "a subPath mount never sees ConfigMap updates"
    );
    assert!(c
        .args
        .expect("args")
        .contains(&"/etc/akidb/akidb.toml".to_string()));
}

#[test]
fn data_volume_claim_uses_the_storage_spec() {
    let mut cl = cluster("a");
    cl.spec.storage.size = Quantity("50Gi".into());
    cl.spec.storage.storage_class_name = Some("fast".into());
    let s = sts(&cl);
    let claim = s
        .spec
        .and_then(|s| s.volume_claim_templates)
        .expect("claims")[0]
        .clone();
    let spec = claim.spec.expect("claim spec");
    assert_eq!(spec.storage_class_name.as_deref(), Some("fast"));
    let size = spec
        .resources
        .and_then(|r| r.requests)
        .and_then(|r| r.get("storage").cloned());
    assert_eq!(size, Some(Quantity("50Gi".into())));
}

#[test]
fn resources_default_when_unset_and_follow_the_spec_when_set() {
    let c = container_of(&sts(&cluster("a")));
    assert_eq!(c.resources, Some(default_resources()));
    let mut cl = cluster("a");
    let custom = ResourceRequirements {
        requests: Some(BTreeMap::from([("cpu".to_string(), Quantity("2".into()))])),
        ..Default::default()
    };
    cl.spec.resources = Some(custom.clone());
    assert_eq!(container_of(&sts(&cl)).resources, Some(custom));
}

#[test]
fn s3_credentials_come_from_the_referenced_secret() {
    let c = container_of(&sts(&cluster("a").with_s3("vectors", "s3-creds")));
    let env = c.env.expect("env");
    let from_secret = |name: &str| {
        env.iter()
            .find(|e| e.name == name)
            .and_then(|e| e.value_from.clone())
            .and_then(|v| v.secret_key_ref)
            .map(|s| (s.name, s.key))
    };
    assert_eq!(
        from_secret("AWS_ACCESS_KEY_ID"),
        Some(("s3-creds".into(), "AWS_ACCESS_KEY_ID".into()))
    );
    assert_eq!(
        from_secret("AWS_SECRET_ACCESS_KEY"),
        Some(("s3-creds".into(), "AWS_SECRET_ACCESS_KEY".into()))
    );
    assert!(
        env.iter().all(|e| e.value.as_deref() != Some("value")),
        "no secret value inlined"
    );
}

#[test]
fn hot_reloadable_config_changes_leave_the_pod_template_alone() {
    let base = sts(&cluster("a"));
    let mut cl = cluster("a");
    cl.spec.circuit_breaker.cooldown_seconds = 30;
    cl.spec.dlq.max_size = 5;
    let changed = sts(&cl);
    assert_eq!(
        base.spec.map(|s| s.template),
        changed.spec.map(|s| s.template)
    );
}

#[test]
fn restart_requiring_config_changes_move_the_pod_hash_annotation() {
    let base = pod_annotations(&sts(&cluster("a")));
    let changed = pod_annotations(&sts(&cluster("a").with_s3("vectors", "s3-creds")));
    assert!(base.contains_key(CONFIG_HASH_ANNOTATION));
    assert_ne!(
        base.get(CONFIG_HASH_ANNOTATION),
        changed.get(CONFIG_HASH_ANNOTATION)
    );
}

#[test]
fn tls_mounts_the_secret_and_switches_probes_to_https() {
    let mut cl = cluster("a");
    cl.spec.tls = Some(TlsSpec {
        secret_name: "api-tls".into(),
        client_auth: false,
    });
    let s = sts(&cl);
    let c = container_of(&s);
    let scheme = c
        .readiness_probe
        .and_then(|p| p.http_get)
        .and_then(|h| h.scheme);
    assert_eq!(scheme.as_deref(), Some("HTTPS"));
    let vols = s
        .spec
        .and_then(|s| s.template.spec)
        .and_then(|p| p.volumes)
        .expect("volumes");
    let tls = vols
        .iter()
        .find(|v| v.name == "tls")
        .and_then(|v| v.secret.clone())
        .expect("tls volume");
    assert_eq!(tls.secret_name.as_deref(), Some("api-tls"));
}

#[test]
fn image_is_repository_and_version() {
    let mut cl = cluster("a");
    cl.spec.version = "1.2.3".into();
    assert_eq!(
        container_of(&sts(&cl)).image.as_deref(),
        Some("ghcr.io/akidb/akidb-dataplane:1.2.3")
    );
    cl.spec.image = "registry.local/akidb@sha256:abc".into();
    assert_eq!(
        container_of(&sts(&cl)).image.as_deref(),
        Some("registry.local/akidb@sha256:abc")
    );
}
