//! Status conditions the way `kubectl wait` and Argo CD read them: `lastTransitionTime` moves only
//! when a condition's status flips.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

pub const READY: &str = "Ready";
pub const PROGRESSING: &str = "Progressing";
pub const DEGRADED: &str = "Degraded";

/// A condition with a placeholder transition time; [`merge`] sets the real one.
pub fn condition(
    type_: &str,
    status: bool,
    reason: &str,
    message: impl Into<String>,
    generation: Option<i64>,
) -> Condition {
    Condition {
        type_: type_.to_string(),
        status: if status { "True" } else { "False" }.to_string(),
        reason: reason.to_string(),
        message: message.into(),
        observed_generation: generation,
        last_transition_time: Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
    }
}

/// The conditions to write: `desired`, each keeping the `lastTransitionTime` of the existing
/// condition of the same type when its status did not change, and taking `now` otherwise.
pub fn merge(existing: &[Condition], desired: Vec<Condition>, now: &Time) -> Vec<Condition> {
    desired
        .into_iter()
        .map(|mut c| {
            c.last_transition_time = match find(existing, &c.type_) {
                Some(old) if old.status == c.status => old.last_transition_time.clone(),
                _ => now.clone(),
            };
            c
        })
        .collect()
}

pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == "True")
}

/// The current time as a Kubernetes `Time`.
/// Truncated to whole seconds, which is what the API server stores, so a status read back compares
/// equal to the one written.
pub fn now() -> Time {
    let secs = k8s_openapi::jiff::Timestamp::now().as_second();
    Time(
        k8s_openapi::jiff::Timestamp::from_second(secs)
            .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Time {
        Time(
            k8s_openapi::jiff::Timestamp::from_second(secs)
                .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
        )
    }

    #[test]
    fn a_new_condition_takes_now_as_transition_time() {
        let merged = merge(
            &[],
            vec![condition(READY, false, "Creating", "m", Some(1))],
            &at(100),
        );
        assert_eq!(merged[0].last_transition_time, at(100));
    }

    #[test]
    fn same_status_with_new_reason_keeps_the_transition_time() {
        let old = merge(
            &[],
            vec![condition(READY, false, "Creating", "m", Some(1))],
            &at(100),
        );
        let merged = merge(
            &old,
            vec![condition(READY, false, "RollingOut", "other", Some(2))],
            &at(200),
        );
        assert_eq!(merged[0].last_transition_time, at(100));
        assert_eq!(merged[0].reason, "RollingOut");
        assert_eq!(merged[0].observed_generation, Some(2));
    }

    #[test]
    fn a_flipped_status_moves_the_transition_time() {
        let old = merge(
            &[],
            vec![condition(READY, false, "Creating", "m", Some(1))],
            &at(100),
        );
        let merged = merge(
            &old,
            vec![condition(READY, true, "AllReplicasReady", "m", Some(1))],
            &at(200),
        );
        assert_eq!(merged[0].last_transition_time, at(200));
        assert!(is_true(&merged, READY));
    }
}
