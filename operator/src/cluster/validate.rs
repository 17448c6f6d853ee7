//! Step 2: check the spec and what it refers to, without a client. A failure becomes a `Degraded`
//! condition with the reason, never a crash loop.

use crate::crd::AkiCluster;

use super::dereference::Referenced;

/// Longest AkiCluster name: `<name>-green` plus the StatefulSet's revision-hash suffix must fit
/// in a 63-character label value.
pub const MAX_NAME_LEN: usize = 40;

/// Why a cluster cannot be reconciled as specified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Condition reason (PascalCase).
    pub reason: &'static str,
    /// What a person should do about it.
    pub message: String,
    /// True when only a spec edit can fix it (wait for a change); false when something outside the
    /// spec may appear later (a Secret), so the controller checks again after a while.
    pub spec_error: bool,
}

fn spec_error(reason: &'static str, message: String) -> Invalid {
    Invalid {
        reason,
        message,
        spec_error: true,
    }
}

fn secret_error(reason: &'static str, message: String) -> Invalid {
    Invalid {
        reason,
        message,
        spec_error: false,
    }
}

pub fn validate(cluster: &AkiCluster, refs: &Referenced) -> Result<(), Invalid> {
    let s = &cluster.spec;
    let name = cluster.metadata.name.as_deref().unwrap_or_default();
    if name.len() > MAX_NAME_LEN {
        return Err(spec_error(
            "NameTooLong",
            format!("AkiCluster name {name:?} has {} characters; at most {MAX_NAME_LEN} fit the names of its pods", name.len()),
        ));
    }
    if s.replicas < 1 {
        return Err(spec_error(
            "InvalidSpec",
            format!("spec.replicas is {}; it must be at least 1", s.replicas),
        ));
    }
    if s.image.trim().is_empty() || s.version.trim().is_empty() {
        return Err(spec_error(
            "InvalidSpec",
            "spec.image and spec.version must not be empty".to_string(),
        ));
    }
    if s.tiering.needs_object_store() && s.object_store.is_none() {
        return Err(spec_error(
            "ObjectStoreRequired",
            format!("spec.tiering is {:?}, which keeps data in object storage; set spec.objectStore.bucket or use tiering memory", s.tiering),
        ));
    }
    check_storage(cluster, refs)?;
    if let Some(c) = s
        .object_store
        .as_ref()
        .and_then(|o| o.credentials_secret.as_ref())
    {
        require_keys(
            refs,
            &c.name,
            &[&c.access_key_id_key, &c.secret_access_key_key],
            "spec.objectStore.credentialsSecret",
        )?;
    }
    if let Some(t) = &s.tls {
        let mut keys = vec!["tls.crt", "tls.key"];
        if t.client_auth {
            keys.push("ca.crt");
        }
        require_keys(refs, &t.secret_name, &keys, "spec.tls.secretName")?;
    }
    if let Some(a) = &s.auth {
        require_keys(
            refs,
            &a.api_keys_secret,
            &["keys.toml"],
            "spec.auth.apiKeysSecret",
        )?;
    }
    Ok(())
}

/// The claim template of a running StatefulSet cannot change; refuse a different `spec.storage`.
fn check_storage(cluster: &AkiCluster, refs: &Referenced) -> Result<(), Invalid> {
    let Some(claim) = &refs.live_claim else {
        return Ok(());
    };
    let s = &cluster.spec.storage;
    let live_size = claim
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"));
    let class_changed =
        s.storage_class_name.is_some() && claim.storage_class_name != s.storage_class_name;
    if live_size.is_some_and(|l| *l != s.size) || class_changed {
        return Err(spec_error(
            "StorageImmutable",
            "spec.storage differs from the running StatefulSet's volume claims, which cannot change; \
             revert spec.storage (resize the PVCs directly if the StorageClass allows expansion)"
                .to_string(),
        ));
    }
    Ok(())
}

fn require_keys(refs: &Referenced, name: &str, keys: &[&str], field: &str) -> Result<(), Invalid> {
    let Some(Some(present)) = refs.secrets.get(name) else {
        return Err(secret_error(
            "SecretNotFound",
            format!("Secret {name:?} named in {field} does not exist in this namespace; create it (the operator checks again every 30s)"),
        ));
    };
    let missing: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| !present.contains(*k))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(secret_error(
            "SecretKeyMissing",
            format!(
                "Secret {name:?} named in {field} has no key(s) {}; add them",
                missing.join(", ")
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::crd::Tiering;
    use crate::testing::fixtures::{cluster, ClusterFixture};

    fn with_secret(name: &str, keys: &[&str]) -> Referenced {
        let mut r = Referenced::default();
        r.secrets.insert(
            name.to_string(),
            Some(keys.iter().map(|k| k.to_string()).collect::<BTreeSet<_>>()),
        );
        r
    }

    #[test]
    fn a_minimal_cluster_is_valid() {
        assert_eq!(validate(&cluster("a"), &Referenced::default()), Ok(()));
    }

    #[test]
    fn a_missing_credentials_secret_is_reported_and_rechecked_later() {
        let mut refs = Referenced::default();
        refs.secrets.insert("creds".into(), None);
        let e = validate(&cluster("a").with_s3("vectors", "creds"), &refs).expect_err("invalid");
        assert_eq!(e.reason, "SecretNotFound");
        assert!(e.message.contains("creds"));
        assert!(!e.spec_error);
    }

    #[test]
    fn a_secret_without_the_named_keys_is_reported() {
        let e = validate(
            &cluster("a").with_s3("vectors", "creds"),
            &with_secret("creds", &["AWS_ACCESS_KEY_ID"]),
        )
        .expect_err("invalid");
        assert_eq!(e.reason, "SecretKeyMissing");
        assert!(e.message.contains("AWS_SECRET_ACCESS_KEY"));
    }

    #[test]
    fn s3_tiering_without_an_object_store_is_a_spec_error() {
        let e = validate(
            &cluster("a").with_tiering(Tiering::S3Only),
            &Referenced::default(),
        )
        .expect_err("invalid");
        assert_eq!(e.reason, "ObjectStoreRequired");
        assert!(e.spec_error);
    }

    #[test]
    fn zero_replicas_is_a_spec_error() {
        let e =
            validate(&cluster("a").with_replicas(0), &Referenced::default()).expect_err("invalid");
        assert_eq!(e.reason, "InvalidSpec");
    }

    #[test]
    fn a_name_too_long_for_pod_names_is_a_spec_error() {
        let e = validate(&cluster(&"x".repeat(41)), &Referenced::default()).expect_err("invalid");
        assert_eq!(e.reason, "NameTooLong");
    }

    #[test]
    fn a_storage_change_after_creation_is_a_spec_error() {
        use k8s_openapi::api::core::v1::{PersistentVolumeClaimSpec, VolumeResourceRequirements};
        use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
        let refs = Referenced {
            live_claim: Some(PersistentVolumeClaimSpec {
                resources: Some(VolumeResourceRequirements {
                    requests: Some([("storage".to_string(), Quantity("5Gi".into()))].into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let e = validate(&cluster("a"), &refs).expect_err("10Gi in spec, 5Gi live");
        assert_eq!(e.reason, "StorageImmutable");
        let mut c = cluster("a");
        c.spec.storage.size = Quantity("5Gi".into());
        assert_eq!(validate(&c, &refs), Ok(()));
    }

    #[test]
    fn a_complete_s3_setup_is_valid() {
        let refs = with_secret("creds", &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
        assert_eq!(
            validate(
                &cluster("a")
                    .with_s3("vectors", "creds")
                    .with_tiering(Tiering::MemoryS3),
                &refs
            ),
            Ok(())
        );
    }
}
