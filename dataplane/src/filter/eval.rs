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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{json, Map, Value};

    use super::super::Filter;

    fn metadata(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("metadata must be an object, got {other}"),
        }
    }

    fn check(filter: Value, record: Value) -> bool {
        let parsed = Filter::parse(&filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
        parsed.matches(&metadata(record))
    }

    #[test]
    fn eq_matches_equal_string_number_and_bool() {
        assert!(check(json!({"s": "x"}), json!({"s": "x"})));
        assert!(!check(json!({"s": "x"}), json!({"s": "y"})));
        assert!(check(json!({"n": {"$eq": 3}}), json!({"n": 3})));
        assert!(check(json!({"b": false}), json!({"b": false})));
        assert!(!check(json!({"b": true}), json!({"b": false})));
    }

    #[test]
    fn ints_equal_floats() {
        assert!(check(json!({"n": 3}), json!({"n": 3.0})));
        assert!(check(json!({"n": 3.0}), json!({"n": 3})));
        assert!(check(json!({"n": {"$in": [3.0]}}), json!({"n": 3})));
        let many: Vec<f64> = (0..50).map(f64::from).collect();
        assert!(check(json!({"n": {"$in": many}}), json!({"n": 7})));
        assert!(check(json!({"n": 0}), json!({"n": -0.0})));
        assert!(check(json!({"n": {"$lte": 3}}), json!({"n": 3.0})));
    }

    #[test]
    fn eq_matches_any_array_element() {
        assert!(check(json!({"tags": "b"}), json!({"tags": ["a", "b"]})));
        assert!(!check(json!({"tags": "c"}), json!({"tags": ["a", "b"]})));
        assert!(!check(json!({"tags": "a"}), json!({"tags": []})));
    }

    #[test]
    fn eq_does_not_match_missing_or_null_field() {
        assert!(!check(json!({"a": 1}), json!({})));
        assert!(!check(json!({"a": 1}), json!({"a": null})));
    }

    #[test]
    fn ne_matches_different_value() {
        assert!(check(json!({"a": {"$ne": 1}}), json!({"a": 2})));
        assert!(!check(json!({"a": {"$ne": 1}}), json!({"a": 1.0})));
    }

    #[test]
    fn ne_matches_missing_field() {
        assert!(check(json!({"a": {"$ne": 1}}), json!({"b": 1})));
    }

    #[test]
    fn ne_fails_when_any_array_element_is_equal() {
        assert!(!check(json!({"t": {"$ne": "a"}}), json!({"t": ["b", "a"]})));
        assert!(check(json!({"t": {"$ne": "a"}}), json!({"t": ["b", "c"]})));
        assert!(check(json!({"t": {"$ne": "a"}}), json!({"t": []})));
    }

    #[test]
    fn range_operators_compare_numbers() {
        let r = json!({"p": 10});
        assert!(check(json!({"p": {"$gt": 9}}), r.clone()));
        assert!(!check(json!({"p": {"$gt": 10}}), r.clone()));
        assert!(check(json!({"p": {"$gte": 10}}), r.clone()));
        assert!(!check(json!({"p": {"$gte": 10.5}}), r.clone()));
        assert!(check(json!({"p": {"$lt": 10.5}}), r.clone()));
        assert!(!check(json!({"p": {"$lt": 10}}), r.clone()));
        assert!(check(json!({"p": {"$lte": 10}}), r.clone()));
        assert!(!check(json!({"p": {"$lte": 9}}), r));
    }

    #[test]
    fn range_operators_compare_strings_lexicographically() {
        let r = json!({"s": "banana"});
        assert!(check(json!({"s": {"$gt": "apple"}}), r.clone()));
        assert!(check(json!({"s": {"$gte": "banana"}}), r.clone()));
        assert!(check(json!({"s": {"$lt": "bananas"}}), r.clone()));
        assert!(!check(json!({"s": {"$lte": "Banana"}}), r.clone()));
        assert!(check(json!({"s": {"$gt": "10"}}), json!({"s": "9"})));
    }

    #[test]
    fn range_matches_if_any_array_element_matches() {
        assert!(check(json!({"p": {"$gt": 5}}), json!({"p": [1, 7]})));
        assert!(!check(json!({"p": {"$gt": 5}}), json!({"p": [1, 2]})));
        // Each operator may be satisfied by a different element (Mongo).
        assert!(check(
            json!({"p": {"$gt": 1, "$lt": 3}}),
            json!({"p": [0, 5]})
        ));
    }

    #[test]
    fn range_on_missing_field_is_false() {
        assert!(!check(json!({"p": {"$gte": 0}}), json!({})));
        assert!(!check(json!({"p": {"$lt": "z"}}), json!({})));
    }

    #[test]
    fn type_mismatch_is_false() {
        assert!(!check(json!({"a": "1"}), json!({"a": 1})));
        assert!(!check(json!({"a": 1}), json!({"a": true})));
        assert!(!check(json!({"a": {"$gt": 0}}), json!({"a": "5"})));
        assert!(!check(json!({"a": {"$lt": "z"}}), json!({"a": 5})));
        assert!(!check(json!({"a": {"$gte": 0}}), json!({"a": true})));
        assert!(!check(json!({"a": {"$in": ["1", true]}}), json!({"a": 1})));
        assert!(!check(json!({"a": 1}), json!({"a": {"b": 1}})));
    }

    #[test]
    fn negated_type_mismatch_is_true() {
        assert!(check(json!({"a": {"$ne": "1"}}), json!({"a": 1})));
        assert!(check(json!({"a": {"$nin": ["1"]}}), json!({"a": 1})));
        assert!(check(json!({"$not": {"a": {"$gt": 0}}}), json!({"a": "5"})));
    }

    #[test]
    fn in_matches_listed_scalar() {
        let f = json!({"t": {"$in": ["a", "b", 3, false]}});
        assert!(check(f.clone(), json!({"t": "b"})));
        assert!(check(f.clone(), json!({"t": 3.0})));
        assert!(check(f.clone(), json!({"t": false})));
        assert!(!check(f.clone(), json!({"t": true})));
        assert!(!check(f.clone(), json!({"t": "c"})));
        assert!(!check(f, json!({})));
    }

    #[test]
    fn in_matches_any_array_element() {
        let f = json!({"t": {"$in": ["a", "b"]}});
        assert!(check(f.clone(), json!({"t": ["x", "b"]})));
        assert!(!check(f, json!({"t": ["x", "y"]})));
    }

    #[test]
    fn in_with_many_values_matches_like_a_short_list() {
        let mut values: Vec<Value> = (0..40).map(|i| json!(format!("s{i}"))).collect();
        values.extend((0..40).map(|i| json!(i)));
        values.push(json!(true));
        let f = json!({"t": {"$in": values}});
        assert!(check(f.clone(), json!({"t": "s39"})));
        assert!(check(f.clone(), json!({"t": 39.0})));
        assert!(check(f.clone(), json!({"t": -0.0})));
        assert!(check(f.clone(), json!({"t": true})));
        assert!(check(f.clone(), json!({"t": ["zz", 5]})));
        assert!(!check(f.clone(), json!({"t": false})));
        assert!(!check(f.clone(), json!({"t": "s40"})));
        assert!(!check(f.clone(), json!({"t": 0.5})));
        assert!(!check(f, json!({"t": null})));
    }

    #[test]
    fn empty_in_matches_nothing_and_empty_nin_matches_everything() {
        assert!(!check(json!({"t": {"$in": []}}), json!({"t": 1})));
        assert!(check(json!({"t": {"$nin": []}}), json!({"t": 1})));
    }

    #[test]
    fn nin_matches_when_no_element_is_listed() {
        let f = json!({"t": {"$nin": ["a", "b"]}});
        assert!(check(f.clone(), json!({"t": "c"})));
        assert!(check(f.clone(), json!({"t": ["c", "d"]})));
        assert!(!check(f.clone(), json!({"t": ["c", "a"]})));
        assert!(!check(f, json!({"t": "a"})));
    }

    #[test]
    fn nin_matches_missing_field() {
        assert!(check(json!({"t": {"$nin": ["a"]}}), json!({})));
    }

    #[test]
    fn exists_true_matches_any_present_field_even_null() {
        let f = json!({"a": {"$exists": true}});
        assert!(check(f.clone(), json!({"a": null})));
        assert!(check(f.clone(), json!({"a": []})));
        assert!(!check(f, json!({"b": 1})));
    }

    #[test]
    fn exists_false_matches_missing_field() {
        let f = json!({"a": {"$exists": false}});
        assert!(check(f.clone(), json!({"b": 1})));
        assert!(!check(f, json!({"a": 0})));
    }

    #[test]
    fn implicit_and_requires_every_key() {
        let f = json!({"a": 1, "b": "x"});
        assert!(check(f.clone(), json!({"a": 1, "b": "x", "c": 0})));
        assert!(!check(f.clone(), json!({"a": 1, "b": "y"})));
        assert!(!check(f, json!({"a": 1})));
    }

    #[test]
    fn operators_on_one_field_are_anded() {
        let f = json!({"p": {"$gte": 10, "$lt": 20}});
        assert!(check(f.clone(), json!({"p": 10})));
        assert!(check(f.clone(), json!({"p": 19.9})));
        assert!(!check(f.clone(), json!({"p": 20})));
        assert!(!check(f, json!({"p": 9})));
    }

    #[test]
    fn or_matches_if_any_clause_matches() {
        let f = json!({"$or": [{"a": 1}, {"b": 2}]});
        assert!(check(f.clone(), json!({"a": 1})));
        assert!(check(f.clone(), json!({"b": 2})));
        assert!(!check(f, json!({"a": 2, "b": 1})));
    }

    #[test]
    fn not_negates_the_inner_filter() {
        let f = json!({"$not": {"a": 1, "b": 2}});
        assert!(!check(f.clone(), json!({"a": 1, "b": 2})));
        assert!(check(f.clone(), json!({"a": 1})));
        assert!(check(f, json!({})));
    }

    #[test]
    fn field_level_not_matches_missing_field() {
        let f = json!({"p": {"$not": {"$gt": 5}}});
        assert!(check(f.clone(), json!({"p": 3})));
        assert!(check(f.clone(), json!({})));
        assert!(!check(f, json!({"p": 6})));
    }

    #[test]
    fn nested_and_or_not_combine() {
        let f = json!({
            "$and": [
                {"$or": [{"kind": "book"}, {"kind": {"$in": ["film", "show"]}}]},
                {"$not": {"$or": [{"year": {"$lt": 2000}}, {"tags": "draft"}]}},
                {"price": {"$lte": 20}}
            ]
        });
        assert!(check(
            f.clone(),
            json!({"kind": "film", "year": 2010, "tags": ["new"], "price": 9.5})
        ));
        assert!(!check(
            f.clone(),
            json!({"kind": "film", "year": 2010, "tags": ["draft"], "price": 9.5})
        ));
        assert!(!check(
            f.clone(),
            json!({"kind": "game", "year": 2010, "price": 1})
        ));
        assert!(!check(f, json!({"kind": "book", "year": 1999, "price": 1})));
    }

    #[test]
    fn dotted_paths_look_into_nested_objects() {
        let r = json!({"a": {"b": {"c": 5}, "s": ["x"]}, "flat": 1});
        assert!(check(json!({"a.b.c": 5}), r.clone()));
        assert!(check(json!({"a.s": "x"}), r.clone()));
        assert!(check(json!({"a.b.c": {"$gt": 4}}), r.clone()));
        assert!(!check(json!({"a.b.d": {"$exists": true}}), r.clone()));
        assert!(check(json!({"flat.x": {"$exists": false}}), r.clone()));
        assert!(check(json!({"a.s.0": {"$ne": "x"}}), r));
    }

    #[test]
    fn match_all_matches_every_record() {
        let all = Filter::match_all();
        assert!(all.is_match_all());
        assert!(all.matches(&Map::new()));
        assert!(all.matches(&metadata(json!({"a": [1, 2], "b": {"c": null}}))));
    }

    // ---- property test against an independent, naive evaluator ----

    /// Same semantics as the module doc, evaluated straight off the JSON.
    fn reference(filter: &Value, record: &Value) -> bool {
        let Value::Object(entries) = filter else {
            unreachable!("generated filters are objects")
        };
        entries.iter().all(|(key, arg)| match key.as_str() {
            "$and" => arg
                .as_array()
                .into_iter()
                .flatten()
                .all(|f| reference(f, record)),
            "$or" => arg
                .as_array()
                .into_iter()
                .flatten()
                .any(|f| reference(f, record)),
            "$not" => !reference(arg, record),
            path => {
                let field = path
                    .split('.')
                    .try_fold(record, |v, segment| v.as_object()?.get(segment));
                match arg {
                    Value::Object(ops) => ops.iter().all(|(op, a)| reference_op(op, a, field)),
                    scalar => reference_op("$eq", scalar, field),
                }
            }
        })
    }

    fn reference_op(op: &str, arg: &Value, field: Option<&Value>) -> bool {
        let candidates: Vec<&Value> = match field {
            None => Vec::new(),
            Some(Value::Array(items)) => items.iter().collect(),
            Some(v) => vec![v],
        };
        let same = |a: &Value, b: &Value| match (a, b) {
            (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
            (Value::String(_), Value::String(_)) | (Value::Bool(_), Value::Bool(_)) => a == b,
            _ => false,
        };
        let order = |a: &Value, b: &Value| match (a, b) {
            (Value::Number(x), Value::Number(y)) => x.as_f64().partial_cmp(&y.as_f64()),
            (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
            _ => None,
        };
        let ranged = |want: &[std::cmp::Ordering]| {
            candidates
                .iter()
                .any(|c| order(c, arg).is_some_and(|o| want.contains(&o)))
        };
        use std::cmp::Ordering::{Equal, Greater, Less};
        match op {
            "$eq" => candidates.iter().any(|c| same(c, arg)),
            "$ne" => !reference_op("$eq", arg, field),
            "$in" => arg
                .as_array()
                .into_iter()
                .flatten()
                .any(|a| candidates.iter().any(|c| same(c, a))),
            "$nin" => !reference_op("$in", arg, field),
            "$gt" => ranged(&[Greater]),
            "$gte" => ranged(&[Greater, Equal]),
            "$lt" => ranged(&[Less]),
            "$lte" => ranged(&[Less, Equal]),
            "$exists" => field.is_some() == (arg == &Value::Bool(true)),
            "$not" => !arg
                .as_object()
                .into_iter()
                .flatten()
                .all(|(op, a)| reference_op(op, a, field)),
            other => unreachable!("generator does not produce {other}"),
        }
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            (0i64..4).prop_map(Value::from),
            prop::sample::select(vec![0.0, 1.5, 2.0, -0.0]).prop_map(Value::from),
            prop::sample::select(vec!["", "a", "b", "ab"]).prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
        ]
    }

    fn field_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            3 => scalar(),
            1 => Just(Value::Null),
            2 => prop::collection::vec(scalar(), 0..4).prop_map(Value::from),
            1 => prop::collection::btree_map(
                prop::sample::select(vec!["x", "y"]),
                scalar(),
                0..3
            )
            .prop_map(|m| json!(m)),
        ]
    }

    fn record() -> impl Strategy<Value = Value> {
        prop::collection::btree_map(
            prop::sample::select(vec!["a", "b", "n"]),
            field_value(),
            0..4,
        )
        .prop_map(|m| json!(m))
    }

    /// A wider value pool for `$in` so long lists take the hashed path.
    fn set_member() -> impl Strategy<Value = Value> {
        prop_oneof![
            scalar(),
            (0i64..30).prop_map(Value::from),
            (0u8..30).prop_map(|i| Value::from(format!("s{i}"))),
        ]
    }

    fn operator() -> impl Strategy<Value = (String, Value)> {
        let range_operand = prop_oneof![
            (0i64..4).prop_map(Value::from),
            Just(json!(1.5)),
            prop::sample::select(vec!["", "a", "ab", "b"]).prop_map(Value::from),
        ];
        prop_oneof![
            scalar().prop_map(|v| ("$eq".to_owned(), v)),
            scalar().prop_map(|v| ("$ne".to_owned(), v)),
            (
                prop::sample::select(vec!["$gt", "$gte", "$lt", "$lte"]),
                range_operand
            )
                .prop_map(|(op, v)| (op.to_owned(), v)),
            (
                prop::sample::select(vec!["$in", "$nin"]),
                prop::collection::vec(set_member(), 0..24)
            )
                .prop_map(|(op, v)| (op.to_owned(), Value::from(v))),
            any::<bool>().prop_map(|b| ("$exists".to_owned(), Value::from(b))),
        ]
    }

    /// `{"$op": operand, ...}` for one field.
    fn operators() -> impl Strategy<Value = Value> {
        prop::collection::vec(operator(), 1..3)
            .prop_map(|ops| Value::Object(ops.into_iter().collect()))
    }

    fn condition() -> impl Strategy<Value = Value> {
        let path = prop::sample::select(vec!["a", "b", "n", "a.x", "n.x", "n.y", "missing"]);
        let rhs = prop_oneof![
            2 => scalar(),
            4 => operators(),
            1 => operators().prop_map(|o| json!({ "$not": o })),
        ];
        (path, rhs).prop_map(|(p, v)| json!({ p: v }))
    }

    fn filter() -> impl Strategy<Value = Value> {
        condition().prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..4).prop_map(|v| json!({ "$and": v })),
                prop::collection::vec(inner.clone(), 1..4).prop_map(|v| json!({ "$or": v })),
                inner.clone().prop_map(|v| json!({ "$not": v })),
                // Implicit AND: merge several objects into one.
                prop::collection::vec(inner, 0..3).prop_map(|parts| {
                    let mut merged = Map::new();
                    for part in parts {
                        if let Value::Object(m) = part {
                            merged.extend(m);
                        }
                    }
                    Value::Object(merged)
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn matches_agrees_with_a_naive_reference_evaluator(
            filter in filter(),
            records in prop::collection::vec(record(), 8),
        ) {
            let parsed = match Filter::parse(&filter) {
                Ok(parsed) => parsed,
                Err(e) => return Err(TestCaseError::fail(format!("{filter} rejected: {e}"))),
            };
            for record in &records {
                let expected = reference(&filter, record);
                let actual = parsed.matches(&metadata(record.clone()));
                prop_assert_eq!(actual, expected, "filter {} on {}", filter, record);
            }
        }
    }
}
