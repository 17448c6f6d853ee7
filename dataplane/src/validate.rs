//! Input checks shared by every write and query path. They run before anything is logged or
//! applied, so a rejected request changes nothing.

use std::collections::HashSet;

use akidb_client::{Metric, Record};

use crate::config::LimitsConfig;
use crate::error::{DbError, Result};

/// Longest record id, in bytes.
pub const MAX_ID_BYTES: usize = 256;
/// Largest collection dimension.
pub const MAX_DIMENSION: u32 = 4096;

/// Collection names are DNS labels so they can name Kubernetes objects and object-store prefixes.
pub fn collection_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(DbError::InvalidCollection(format!(
            "collection name '{}' must be a DNS label: 1-63 characters of a-z, 0-9 and '-', \
             starting and ending with a letter or digit",
            name.chars().take(80).collect::<String>()
        )))
    }
}

pub fn dimension(d: u32) -> Result<()> {
    if (1..=MAX_DIMENSION).contains(&d) {
        Ok(())
    } else {
        Err(DbError::InvalidCollection(format!(
            "dimension {d} is out of range 1..={MAX_DIMENSION}"
        )))
    }
}

pub fn record_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Err(DbError::InvalidId(format!(
            "record ids must be 1..={MAX_ID_BYTES} bytes, got {}",
            id.len()
        )));
    }
    Ok(())
}

/// Checks length and finiteness; under cosine, normalises in place (a zero vector has no
/// direction and is refused).
pub fn vector(
    v: &mut [f32],
    dim: usize,
    metric: Metric,
    index: usize,
    collection: &str,
) -> Result<()> {
    if v.len() != dim {
        return Err(DbError::DimensionMismatch {
            collection: collection.to_string(),
            index,
            expected: dim,
            got: v.len(),
        });
    }
    if let Some(pos) = v.iter().position(|x| !x.is_finite()) {
        return Err(DbError::InvalidVector(format!(
            "vector {index} has a non-finite value at position {pos}"
        )));
    }
    if metric == Metric::Cosine {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm == 0.0 || !norm.is_finite() {
            return Err(DbError::InvalidVector(format!(
                "vector {index} has zero (or overflowing) length and no cosine direction"
            )));
        }
        v.iter_mut().for_each(|x| *x /= norm);
    }
    Ok(())
}

/// Validates (and under cosine normalises) an upsert batch.
pub fn upsert_batch(
    records: &mut [Record],
    dim: usize,
    metric: Metric,
    collection: &str,
    limits: &LimitsConfig,
) -> Result<()> {
    if records.is_empty() {
        return Err(DbError::InvalidRequest("records must not be empty".into()));
    }
    if records.len() > limits.max_upsert_batch {
        return Err(DbError::LimitExceeded(format!(
            "batch of {} records exceeds the limit of {}",
            records.len(),
            limits.max_upsert_batch
        )));
    }
    let mut seen = HashSet::with_capacity(records.len());
    for (i, r) in records.iter_mut().enumerate() {
        record_id(&r.id)?;
        if !seen.insert(r.id.as_str()) {
            return Err(DbError::DuplicateId(r.id.clone()));
        }
        vector(&mut r.vector, dim, metric, i, collection)?;
    }
    Ok(())
}

/// Validates a delete-by-ids list.
pub fn delete_ids(ids: &[String], limits: &LimitsConfig) -> Result<()> {
    if ids.is_empty() {
        return Err(DbError::InvalidRequest("ids must not be empty".into()));
    }
    if ids.len() > limits.max_delete_batch {
        return Err(DbError::LimitExceeded(format!(
            "{} ids exceed the limit of {}",
            ids.len(),
            limits.max_delete_batch
        )));
    }
    ids.iter().try_for_each(|id| record_id(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use akidb_client::Metadata;

    fn rec(id: &str, v: Vec<f32>) -> Record {
        Record {
            id: id.into(),
            vector: v,
            metadata: Metadata::new(),
        }
    }

    #[test]
    fn names_must_be_dns_labels() {
        for good in ["docs", "a", "a-1", &"x".repeat(63)] {
            assert!(collection_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Docs", "-a", "a-", "a_b", "a.b", &"x".repeat(64)] {
            assert!(collection_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cosine_vectors_are_normalised_and_zero_is_refused() {
        let mut v = vec![3.0, 4.0];
        vector(&mut v, 2, Metric::Cosine, 0, "c").expect("ok");
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
        assert!(matches!(
            vector(&mut [0.0, 0.0], 2, Metric::Cosine, 0, "c"),
            Err(DbError::InvalidVector(_))
        ));
        assert!(matches!(
            vector(&mut [f32::INFINITY, 0.0], 2, Metric::L2, 0, "c"),
            Err(DbError::InvalidVector(_))
        ));
    }

    #[test]
    fn batches_reject_duplicates_wrong_dimensions_and_bad_ids() {
        let l = LimitsConfig::default();
        let mut dup = vec![rec("a", vec![1.0]), rec("a", vec![2.0])];
        assert!(matches!(
            upsert_batch(&mut dup, 1, Metric::L2, "c", &l),
            Err(DbError::DuplicateId(_))
        ));
        let mut dim = vec![rec("a", vec![1.0, 2.0])];
        assert!(matches!(
            upsert_batch(&mut dim, 1, Metric::L2, "c", &l),
            Err(DbError::DimensionMismatch {
                expected: 1,
                got: 2,
                ..
            })
        ));
        let mut long = vec![rec(&"x".repeat(257), vec![1.0])];
        assert!(matches!(
            upsert_batch(&mut long, 1, Metric::L2, "c", &l),
            Err(DbError::InvalidId(_))
        ));
        assert!(matches!(
            upsert_batch(&mut [], 1, Metric::L2, "c", &l),
            Err(DbError::InvalidRequest(_))
        ));
        let small = LimitsConfig {
            max_upsert_batch: 1,
            ..l
        };
        let mut two = vec![rec("a", vec![1.0]), rec("b", vec![2.0])];
        assert!(matches!(
            upsert_batch(&mut two, 1, Metric::L2, "c", &small),
            Err(DbError::LimitExceeded(_))
        ));
    }
}
