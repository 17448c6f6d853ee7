//! Evaluation of a parsed [`Filter`] against one record's metadata.
//!
//! Runs once per candidate record (hundreds of thousands per query), so it
//! only borrows: no allocation, no path splitting, no operand conversion.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::{Bound, FieldPath, Filter, Op, Scalar};

pub(super) fn matches(filter: &Filter, metadata: &Map<String, Value>) -> bool {
    match filter {
        Filter::And(clauses) => clauses.iter().all(|c| matches(c, metadata)),
        Filter::Or(clauses) => clauses.iter().any(|c| matches(c, metadata)),
        Filter::Not(inner) => !matches(inner, metadata),
        Filter::Field { path, op } => op_matches(op, lookup(path, metadata)),
    }
}

/// Follows a dotted path through nested objects; `None` means missing.
fn lookup<'a>(path: &FieldPath, metadata: &'a Map<String, Value>) -> Option<&'a Value> {
    let (first, rest) = path.segments.split_first()?;
    let mut value = metadata.get(&**first)?;
    for segment in rest {
        value = value.as_object()?.get(&**segment)?;
    }
    Some(value)
}

fn op_matches(op: &Op, value: Option<&Value>) -> bool {
    let Some(value) = value else {
        // Only the negative operators are satisfied by a missing field.
        return matches!(op, Op::Ne(_) | Op::Nin(_) | Op::Exists(false));
    };
    match op {
        Op::Eq(s) => any_element(value, |v| scalar_eq(s, v)),
        Op::Ne(s) => !any_element(value, |v| scalar_eq(s, v)),
        Op::Gt(b) => any_element(value, |v| compare(v, b) == Some(Ordering::Greater)),
        Op::Gte(b) => any_element(value, |v| {
            matches!(compare(v, b), Some(Ordering::Greater | Ordering::Equal))
        }),
        Op::Lt(b) => any_element(value, |v| compare(v, b) == Some(Ordering::Less)),
        Op::Lte(b) => any_element(value, |v| {
            matches!(compare(v, b), Some(Ordering::Less | Ordering::Equal))
        }),
        Op::In(set) => any_element(value, |v| set.contains(v)),
        Op::Nin(set) => !any_element(value, |v| set.contains(v)),
        Op::Exists(expected) => *expected,
    }
}

/// Mongo's array rule: a condition on an array field holds if it holds for
/// any element (nested arrays are not descended into).
#[inline]
fn any_element(value: &Value, pred: impl Fn(&Value) -> bool) -> bool {
    match value {
        Value::Array(items) => items.iter().any(pred),
        other => pred(other),
    }
}

/// Equality within a type; values of different types are never equal.
#[inline]
pub(super) fn scalar_eq(scalar: &Scalar, value: &Value) -> bool {
    match (scalar, value) {
        (Scalar::Bool(a), Value::Bool(b)) => a == b,
        (Scalar::Number(a), Value::Number(b)) => b.as_f64() == Some(*a),
        (Scalar::String(a), Value::String(b)) => a == b,
        _ => false,
    }
}

/// Orders a field value against a bound; `None` when the types differ.
#[inline]
fn compare(value: &Value, bound: &Bound) -> Option<Ordering> {
    match (value, bound) {
        (Value::Number(n), Bound::Number(b)) => n.as_f64()?.partial_cmp(b),
        (Value::String(s), Bound::String(b)) => Some(s.as_str().cmp(b.as_str())),
        _ => None,
    }
}
