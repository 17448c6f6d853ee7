//! The StatefulSet of one colour: non-root, read-only root filesystem, no capabilities, probes on
//! `/healthz` and `/readyz`, a PVC per pod, S3 credentials from the referenced Secret, the config
//! mounted as a directory (so hot-reloadable edits reach the pod without a restart) and the hash of
//! the restart-requiring config in the pod template (so only those edits restart pods).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec,
    StatefulSetUpdateStrategy,
};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar,
    EnvVarSource, HTTPGetAction, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile,
    SecretKeySelector, SecretVolumeSource, SecurityContext, Volume, VolumeMount,
    VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::child_meta;
use crate::config::{RenderedConfig, AUTH_DIR, TLS_DIR};
use crate::crd::AkiCluster;
use crate::labels::{
    active_color, color_selector, common_labels, config_map_name, headless_service_name,
    statefulset_name, COLOR_LABEL, CONFIG_DIR, CONFIG_FILE, CONFIG_HASH_ANNOTATION, DATA_DIR,
    HTTP_PORT,
};
use crate::Result;

/// UID/GID the data plane runs as (the distroless `nonroot` user).
pub const RUN_AS: i64 = 65532;
const CONTAINER: &str = "dataplane";

pub fn build(cluster: &AkiCluster, rendered: &RenderedConfig) -> Result<StatefulSet> {
    let color = active_color(cluster);
    let mut meta = child_meta(cluster, statefulset_name(cluster, &color))?;
    meta.labels
        .get_or_insert_with(BTreeMap::new)
        .insert(COLOR_LABEL.to_string(), color.clone());
    let mut pod_labels = common_labels(cluster);
    pod_labels.insert(COLOR_LABEL.to_string(), color.clone());
    pod_labels.insert(
        "app.kubernetes.io/version".to_string(),
        cluster.spec.version.clone(),
    );
    let mut annotations = BTreeMap::from([(
        CONFIG_HASH_ANNOTATION.to_string(),
        rendered.restart_hash.clone(),
    )]);
    if cluster.spec.monitoring.pod_annotations {
        annotations.insert("prometheus.io/scrape".into(), "true".into());
        annotations.insert("prometheus.io/port".into(), HTTP_PORT.to_string());
        annotations.insert("prometheus.io/path".into(), "/metrics".into());
    }
    Ok(StatefulSet {
        metadata: meta,
        spec: Some(StatefulSetSpec {
            replicas: Some(cluster.spec.replicas),
            service_name: Some(headless_service_name(cluster)),
            pod_management_policy: Some("Parallel".to_string()),
            selector: LabelSelector {
                match_labels: Some(color_selector(cluster, &color)),
                ..Default::default()
            },
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".to_string()),
                ..Default::default()
            }),
            persistent_volume_claim_retention_policy: Some(
                StatefulSetPersistentVolumeClaimRetentionPolicy {
                    when_deleted: Some("Retain".to_string()),
                    when_scaled: Some("Retain".to_string()),
                },
            ),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    annotations: Some(annotations),
                    ..Default::default()
                }),
                spec: Some(pod_spec(cluster)),
            },
            volume_claim_templates: Some(vec![data_claim(cluster)]),
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn pod_spec(cluster: &AkiCluster) -> PodSpec {
    let mut volumes = vec![
        Volume {
            name: "config".to_string(),
            config_map: Some(ConfigMapVolumeSource {
                name: config_map_name(cluster),
                ..Default::default()
            }),
            ..Default::default()
        },
        Volume {
            name: "tmp".to_string(),
            empty_dir: Some(EmptyDirVolumeSource {
                size_limit: Some(Quantity("256Mi".to_string())),
                ..Default::default()
            }),
            ..Default::default()
        },
    ];
    if let Some(tls) = &cluster.spec.tls {
        volumes.push(secret_volume("tls", &tls.secret_name));
    }
    if let Some(auth) = &cluster.spec.auth {
        volumes.push(secret_volume("auth", &auth.api_keys_secret));
    }
    PodSpec {
        containers: vec![container(cluster)],
        volumes: Some(volumes),
        security_context: Some(PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(RUN_AS),
            run_as_group: Some(RUN_AS),
            fs_group: Some(RUN_AS),
            fs_group_change_policy: Some("OnRootMismatch".to_string()),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".to_string(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        termination_grace_period_seconds: Some(60),
        node_selector: cluster.spec.node_selector.clone(),
        tolerations: cluster.spec.tolerations.clone(),
        ..Default::default()
    }
}

fn container(cluster: &AkiCluster) -> Container {
    let mut mounts = vec![
        mount("data", DATA_DIR),
        VolumeMount {
            read_only: Some(true),
            ..mount("config", CONFIG_DIR)
        },
        mount("tmp", "/tmp"),
    ];
    if cluster.spec.tls.is_some() {
        mounts.push(VolumeMount {
            read_only: Some(true),
            ..mount("tls", TLS_DIR)
        });
    }
    if cluster.spec.auth.is_some() {
        mounts.push(VolumeMount {
            read_only: Some(true),
            ..mount("auth", AUTH_DIR)
        });
    }
    let scheme = if cluster.spec.tls.is_some() {
        "HTTPS"
    } else {
        "HTTP"
    };
    Container {
        name: CONTAINER.to_string(),
        image: Some(cluster.spec.image_ref()),
        image_pull_policy: cluster
            .spec
            .image_pull_policy
            .map(|p| p.as_str().to_string()),
        args: Some(vec![
            "serve".to_string(),
            "--listen".to_string(),
            format!("0.0.0.0:{HTTP_PORT}"),
            "--data-dir".to_string(),
            DATA_DIR.to_string(),
            "--config".to_string(),
            format!("{CONFIG_DIR}/{CONFIG_FILE}"),
        ]),
        ports: Some(vec![ContainerPort {
            name: Some("http".to_string()),
            container_port: HTTP_PORT,
            protocol: Some("TCP".to_string()),
            ..Default::default()
        }]),
        env: Some(env(cluster)),
        resources: Some(
            cluster
                .spec
                .resources
                .clone()
                .unwrap_or_else(default_resources),
        ),
        volume_mounts: Some(mounts),
        startup_probe: Some(probe("/healthz", scheme, 2, 150)),
        liveness_probe: Some(probe("/healthz", scheme, 10, 3)),
        readiness_probe: Some(probe("/readyz", scheme, 5, 2)),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".to_string()]),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn env(cluster: &AkiCluster) -> Vec<EnvVar> {
    let mut env = vec![EnvVar {
        name: "RUST_LOG".to_string(),
        value: Some("info".to_string()),
        ..Default::default()
    }];
    let Some(os) = &cluster.spec.object_store else {
        return env;
    };
    if let Some(region) = &os.region {
        env.push(EnvVar {
            name: "AWS_REGION".to_string(),
            value: Some(region.clone()),
            ..Default::default()
        });
    }
    if let Some(creds) = &os.credentials_secret {
        for (name, key) in [
            ("AWS_ACCESS_KEY_ID", &creds.access_key_id_key),
            ("AWS_SECRET_ACCESS_KEY", &creds.secret_access_key_key),
        ] {
            env.push(EnvVar {
                name: name.to_string(),
                value_from: Some(EnvVarSource {
                    secret_key_ref: Some(SecretKeySelector {
                        name: creds.name.clone(),
                        key: key.clone(),
                        optional: Some(false),
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
    }
    env
}

/// Requests 250m CPU / 512Mi memory, limit 2Gi memory (no CPU limit: throttling hurts latency).
pub fn default_resources() -> ResourceRequirements {
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), Quantity("250m".to_string())),
            ("memory".to_string(), Quantity("512Mi".to_string())),
        ])),
        limits: Some(BTreeMap::from([(
            "memory".to_string(),
            Quantity("2Gi".to_string()),
        )])),
        ..Default::default()
    }
}

fn data_claim(cluster: &AkiCluster) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some("data".to_string()),
            labels: Some(common_labels(cluster)),
            ..Default::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".to_string()]),
            storage_class_name: cluster.spec.storage.storage_class_name.clone(),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_string(),
                    cluster.spec.storage.size.clone(),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn probe(path: &str, scheme: &str, period: i32, failures: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_string()),
            port: IntOrString::String("http".to_string()),
            scheme: Some(scheme.to_string()),
            ..Default::default()
        }),
        period_seconds: Some(period),
        failure_threshold: Some(failures),
        timeout_seconds: Some(2),
        ..Default::default()
    }
}

fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: name.to_string(),
        mount_path: path.to_string(),
        ..Default::default()
    }
}

fn secret_volume(name: &str, secret: &str) -> Volume {
    Volume {
        name: name.to_string(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret.to_string()),
            default_mode: Some(0o440),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
#[path = "statefulset_tests.rs"]
mod tests;
