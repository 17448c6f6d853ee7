use k8s_openapi::api::apps::v1::StatefulSetStatus;
use k8s_openapi::jiff::Timestamp;

use super::*;
use crate::conditions::is_true;
use crate::testing::fixtures::{cluster, ClusterFixture};

fn at(secs: i64) -> Time {
    Time(Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH))
}

fn sts(replicas: i32, ready: i32, updated: i32) -> StatefulSet {
    let mut s = StatefulSet::default();
    s.metadata.generation = Some(1);
    s.status = Some(StatefulSetStatus {
        observed_generation: Some(1),
        replicas,
        ready_replicas: Some(ready),
        updated_replicas: Some(updated),
        current_revision: Some("r1".into()),
        update_revision: Some("r1".into()),
        ..Default::default()
    });
    s
}

fn reason(st: &AkiClusterStatus, t: &str) -> String {
    find(&st.conditions, t)
        .map(|c| c.reason.clone())
        .unwrap_or_default()
}

#[test]
fn all_replicas_ready_makes_the_cluster_ready_at_the_spec_version() {
    let c = cluster("a").with_replicas(3);
    let st = desired(&c, Observed::Applied(&sts(3, 3, 3)), &at(100));
    assert!(is_true(&st.conditions, READY));
    assert!(!is_true(&st.conditions, PROGRESSING));
    assert!(!is_true(&st.conditions, DEGRADED));
    assert_eq!(st.ready_replicas, 3);
    assert_eq!(st.current_version.as_deref(), Some("0.1.0"));
    assert_eq!(st.observed_generation, Some(1));
    assert_eq!(st.active_color.as_deref(), Some("blue"));
}

#[test]
fn a_fresh_statefulset_is_progressing_with_reason_creating() {
    let c = cluster("a");
    let st = desired(&c, Observed::Applied(&StatefulSet::default()), &at(100));
    assert!(is_true(&st.conditions, PROGRESSING));
    assert_eq!(reason(&st, READY), "Creating");
    assert_eq!(st.current_version, None);
}

#[test]
fn pods_not_ready_past_the_progress_deadline_degrade_the_cluster() {
    let mut c = cluster("a").with_replicas(2);
    let first = desired(&c, Observed::Applied(&sts(2, 1, 2)), &at(1_000));
    assert!(!is_true(&first.conditions, DEGRADED));
    c.status = Some(first);
    let later = desired(&c, Observed::Applied(&sts(2, 1, 2)), &at(1_000 + 601));
    assert!(is_true(&later.conditions, DEGRADED));
    assert_eq!(reason(&later, DEGRADED), "ProgressDeadlineExceeded");
    let progressing = find(&later.conditions, PROGRESSING).expect("progressing");
    assert_eq!(
        progressing.last_transition_time,
        at(1_000),
        "still the same Progressing=True period"
    );
}

#[test]
fn an_invalid_spec_is_degraded_with_its_reason() {
    let inv = Invalid {
        reason: "SecretNotFound",
        message: "Secret \"x\" missing".into(),
        spec_error: false,
    };
    let st = desired(&cluster("a"), Observed::Invalid(&inv), &at(5));
    assert!(is_true(&st.conditions, DEGRADED));
    assert_eq!(reason(&st, DEGRADED), "SecretNotFound");
    assert_eq!(reason(&st, READY), "SecretNotFound");
}

#[test]
fn recomputing_an_unchanged_status_gives_an_equal_status() {
    let mut c = cluster("a");
    let st = desired(&c, Observed::Applied(&sts(1, 1, 1)), &at(100));
    c.status = Some(st.clone());
    assert_eq!(desired(&c, Observed::Applied(&sts(1, 1, 1)), &at(500)), st);
}
