//! What every reconcile gets: the client, the event recorder, metrics, the data-plane address
//! scheme and the per-object failure counts behind the exponential backoff.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::Client;

use crate::labels::HTTP_PORT;
use crate::metrics::Metrics;

/// How the collection controller reaches a cluster's client Service.
#[derive(Clone, Debug)]
pub enum DataPlaneResolver {
    /// `http://<cluster>.<namespace>.svc.<domain>:8080` — in a cluster.
    ClusterDns { domain: String },
    /// One fixed URL for every cluster — tests, or an operator run outside the cluster
    /// against a `kubectl port-forward`.
    Fixed(String),
}

impl DataPlaneResolver {
    pub fn url(&self, namespace: &str, cluster: &str) -> String {
        match self {
            DataPlaneResolver::ClusterDns { domain } => {
                format!("http://{cluster}.{namespace}.svc.{domain}:{HTTP_PORT}")
            }
            DataPlaneResolver::Fixed(url) => url.clone(),
        }
    }
}

impl Default for DataPlaneResolver {
    fn default() -> Self {
        DataPlaneResolver::ClusterDns {
            domain: "cluster.local".to_string(),
        }
    }
}

/// Shared state of the controllers.
pub struct Context {
    pub client: Client,
    pub recorder: Recorder,
    pub metrics: Metrics,
    pub resolver: DataPlaneResolver,
    /// How often a Ready collection's record counts are refreshed.
    pub refresh_interval: Duration,
    /// Requeue of something waiting on another object (a Secret, a cluster becoming Ready).
    pub wait_interval: Duration,
    pub backoff: Backoff,
}

/// First and longest error backoff.
const BACKOFF_BASE: Duration = Duration::from_secs(5);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

impl Context {
    pub fn new(client: Client, metrics: Metrics, resolver: DataPlaneResolver) -> Arc<Self> {
        let reporter = Reporter {
            controller: "akidb-operator".into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        Arc::new(Context {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            metrics,
            resolver,
            refresh_interval: Duration::from_secs(60),
            wait_interval: Duration::from_secs(30),
            backoff: Backoff::default(),
        })
    }

    /// Publishes an event; a failure to publish is logged, never fails the reconcile.
    pub async fn event(
        &self,
        reference: &ObjectReference,
        type_: EventType,
        reason: &str,
        action: &str,
        note: String,
    ) {
        let ev = Event {
            type_,
            reason: reason.to_string(),
            note: Some(note),
            action: action.to_string(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&ev, reference).await {
            tracing::warn!(error = %e, reason, "could not publish event");
        }
    }
}

/// Per-object count of consecutive failures, for exponential requeue.
#[derive(Default)]
pub struct Backoff(Mutex<HashMap<String, u32>>);

impl Backoff {
    /// The delay after another failure of `key`: 5s, 10s, 20s, ... up to 5 minutes.
    pub fn next(&self, key: &str) -> Duration {
        let mut failures = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = failures.entry(key.to_string()).or_insert(0);
        let delay = BACKOFF_BASE
            .saturating_mul(2u32.saturating_pow(*n))
            .min(BACKOFF_MAX);
        *n = n.saturating_add(1);
        delay
    }

    /// The requeue action after a failure of `key`.
    pub fn action(&self, key: &str) -> Action {
        Action::requeue(self.next(key))
    }

    /// Forgets the failures of `key` after a success.
    pub fn reset(&self, key: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_dns_url_points_at_the_client_service() {
        let r = DataPlaneResolver::default();
        assert_eq!(
            r.url("prod", "vectors"),
            "http://vectors.prod.svc.cluster.local:8080"
        );
    }

    #[test]
    fn backoff_doubles_up_to_five_minutes_and_resets_on_success() {
        let b = Backoff::default();
        let delays: Vec<u64> = (0..9).map(|_| b.next("a").as_secs()).collect();
        assert_eq!(delays, vec![5, 10, 20, 40, 80, 160, 300, 300, 300]);
        assert_eq!(b.next("other").as_secs(), 5);
        b.reset("a");
        assert_eq!(b.next("a").as_secs(), 5);
    }
}
