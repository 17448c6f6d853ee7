//! Leader election on a `coordination.k8s.io/v1` Lease, the way client-go does it: the holder
//! renews the lease every `duration / 3`; anyone may take it over once `renewTime + duration` has
//! passed. Writes use the Lease's `resourceVersion`, so two candidates can never both win.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::PostParams;
use kube::Api;

/// One candidate's handle on the lease.
pub struct LeaseLock {
    api: Api<Lease>,
    name: String,
    identity: String,
    duration: Duration,
}

impl LeaseLock {
    pub fn new(api: Api<Lease>, name: &str, identity: &str, duration: Duration) -> Self {
        LeaseLock {
            api,
            name: name.to_string(),
            identity: identity.to_string(),
            duration,
        }
    }

    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// How often the holder renews.
    pub fn renew_interval(&self) -> Duration {
        self.duration / 3
    }

    /// How long a lease lives without renewal.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// Takes or renews the lease. `Ok(true)` when this candidate holds it afterwards.
    pub async fn try_acquire_or_renew(&self) -> Result<bool, kube::Error> {
        let now = Timestamp::now();
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..Default::default()
                },
                spec: Some(self.spec(now, now, 0)),
            };
            return conflict_is_false(self.api.create(&PostParams::default(), &lease).await);
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let transitions = spec.lease_transitions.unwrap_or(0);
        let acquired = spec.acquire_time.as_ref().map(|t| t.0).unwrap_or(now);
        let new_spec = if holder == self.identity {
            self.spec(acquired, now, transitions)
        } else if holder.is_empty() || expired(&spec, now) {
            self.spec(now, now, transitions.saturating_add(1))
        } else {
            return Ok(false);
        };
        lease.spec = Some(new_spec);
        conflict_is_false(
            self.api
                .replace(&self.name, &PostParams::default(), &lease)
                .await,
        )
    }

    /// Gives the lease up (on shutdown), so a standby takes over at once instead of after expiry.
    pub async fn release(&self) -> Result<(), kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            return Ok(());
        };
        let mut spec = lease.spec.clone().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        lease.spec = Some(spec);
        self.api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
            .map(|_| ())
    }

    fn spec(&self, acquired: Timestamp, renewed: Timestamp, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(
                i32::try_from(self.duration.as_secs()).unwrap_or(i32::MAX),
            ),
            acquire_time: Some(MicroTime(acquired)),
            renew_time: Some(MicroTime(renewed)),
            lease_transitions: Some(transitions),
            ..Default::default()
        }
    }
}

fn expired(spec: &LeaseSpec, now: Timestamp) -> bool {
    let Some(renewed) = spec.renew_time.as_ref() else {
        return true;
    };
    let secs = i64::from(spec.lease_duration_seconds.unwrap_or(0));
    renewed.0.as_second().saturating_add(secs) < now.as_second()
}

fn conflict_is_false(r: Result<Lease, kube::Error>) -> Result<bool, kube::Error> {
    match r {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube_fake_client::ClientBuilder;

    async fn lock(client: &kube::Client, id: &str) -> LeaseLock {
        LeaseLock::new(
            Api::namespaced(client.clone(), "ops"),
            "akidb-operator",
            id,
            Duration::from_secs(15),
        )
    }

    #[tokio::test]
    async fn first_candidate_takes_a_free_lease_and_the_second_waits() {
        let client = ClientBuilder::new().build().await.expect("fake client");
        let a = lock(&client, "a").await;
        let b = lock(&client, "b").await;
        assert!(a.try_acquire_or_renew().await.expect("a"));
        assert!(!b.try_acquire_or_renew().await.expect("b"));
        assert!(a.try_acquire_or_renew().await.expect("a renews"));
    }

    #[tokio::test]
    async fn an_expired_lease_is_taken_over_and_counts_a_transition() {
        let stale = Lease {
            metadata: ObjectMeta {
                name: Some("akidb-operator".into()),
                namespace: Some("ops".into()),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some("dead".into()),
                lease_duration_seconds: Some(15),
                renew_time: Some(MicroTime(Timestamp::UNIX_EPOCH)),
                lease_transitions: Some(4),
                ..Default::default()
            }),
        };
        let client = ClientBuilder::new()
            .with_object(stale)
            .build()
            .await
            .expect("fake client");
        let b = lock(&client, "b").await;
        assert!(b.try_acquire_or_renew().await.expect("b"));
        let l: Lease = Api::namespaced(client, "ops")
            .get("akidb-operator")
            .await
            .expect("lease");
        let spec = l.spec.expect("spec");
        assert_eq!(spec.holder_identity.as_deref(), Some("b"));
        assert_eq!(spec.lease_transitions, Some(5));
    }

    #[tokio::test]
    async fn a_released_lease_is_free_for_the_next_candidate() {
        let client = ClientBuilder::new().build().await.expect("fake client");
        let a = lock(&client, "a").await;
        let b = lock(&client, "b").await;
        assert!(a.try_acquire_or_renew().await.expect("a"));
        a.release().await.expect("release");
        assert!(b.try_acquire_or_renew().await.expect("b"));
    }
}
