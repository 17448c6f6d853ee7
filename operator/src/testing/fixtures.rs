//! Chainable fixture builders: `cluster("a").with_replicas(3).with_s3("bucket", "creds")`.

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;

use crate::crd::cluster::{CredentialsSecretRef, ObjectStoreSpec};
use crate::crd::collection::{ClusterRef, DeletionPolicy, IndexSpec, Metric, FINALIZER};
use crate::crd::{AkiCluster, AkiClusterSpec, AkiCollection, AkiCollectionSpec, Tiering};

pub const NAMESPACE: &str = "default";

/// An AkiCluster as the API server would return it: defaults applied, uid and generation set.
pub fn cluster(name: &str) -> AkiCluster {
    let mut c = AkiCluster::new(name, AkiClusterSpec::default());
    c.metadata.namespace = Some(NAMESPACE.to_string());
    c.metadata.uid = Some(format!("uid-{name}"));
    c.metadata.generation = Some(1);
    c
}

/// An AkiCollection of 4-dimensional cosine vectors on `cluster`.
pub fn collection(name: &str, cluster: &str) -> AkiCollection {
    let mut c = AkiCollection::new(
        name,
        AkiCollectionSpec {
            cluster_ref: ClusterRef {
                name: cluster.to_string(),
            },
            collection_name: None,
            dimension: 4,
            metric: Metric::Cosine,
            index: IndexSpec::default(),
            tiering: None,
            deletion_policy: DeletionPolicy::Retain,
        },
    );
    c.metadata.namespace = Some(NAMESPACE.to_string());
    c.metadata.uid = Some(format!("uid-{name}"));
    c.metadata.generation = Some(1);
    c
}

/// Chainable changes to an AkiCluster fixture.
pub trait ClusterFixture: Sized {
    fn with_replicas(self, n: i32) -> Self;
    fn with_s3(self, bucket: &str, secret: &str) -> Self;
    fn with_tiering(self, t: Tiering) -> Self;
    fn with_generation(self, g: i64) -> Self;
}

impl ClusterFixture for AkiCluster {
    fn with_replicas(mut self, n: i32) -> Self {
        self.spec.replicas = n;
        self
    }

    fn with_s3(mut self, bucket: &str, secret: &str) -> Self {
        self.spec.object_store = Some(ObjectStoreSpec {
            bucket: bucket.to_string(),
            prefix: None,
            endpoint: Some("http://minio.minio:9000".to_string()),
            region: Some("us-east-1".to_string()),
            credentials_secret: Some(CredentialsSecretRef {
                name: secret.to_string(),
                access_key_id_key: "AWS_ACCESS_KEY_ID".to_string(),
                secret_access_key_key: "AWS_SECRET_ACCESS_KEY".to_string(),
            }),
        });
        self
    }

    fn with_tiering(mut self, t: Tiering) -> Self {
        self.spec.tiering = t;
        self
    }

    fn with_generation(mut self, g: i64) -> Self {
        self.metadata.generation = Some(g);
        self
    }
}

/// Chainable changes to an AkiCollection fixture.
pub trait CollectionFixture: Sized {
    fn with_dimension(self, d: u32) -> Self;
    fn with_policy(self, p: DeletionPolicy) -> Self;
    fn finalized(self) -> Self;
    fn needs_delete(self) -> Self;
}

impl CollectionFixture for AkiCollection {
    fn with_dimension(mut self, d: u32) -> Self {
        self.spec.dimension = d;
        self
    }

    fn with_policy(mut self, p: DeletionPolicy) -> Self {
        self.spec.deletion_policy = p;
        self
    }

    fn finalized(mut self) -> Self {
        self.metadata.finalizers = Some(vec![FINALIZER.to_string()]);
        self
    }

    fn needs_delete(mut self) -> Self {
        self.metadata.deletion_timestamp = Some(crate::conditions::now());
        self
    }
}

/// An Opaque Secret holding `keys` (with placeholder values).
pub fn secret(name: &str, keys: &[&str]) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(NAMESPACE.to_string()),
            ..Default::default()
        },
        data: Some(
            keys.iter()
                .map(|k| (k.to_string(), ByteString(b"value".to_vec())))
                .collect(),
        ),
        ..Default::default()
    }
}
