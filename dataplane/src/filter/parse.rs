//! JSON → [`Filter`]: validation and the up-front work that keeps evaluation cheap.

use serde_json::{Map, Value};

use super::{
    Bound, FieldPath, Filter, FilterError, Op, Scalar, ValueSet, MAX_DEPTH, MAX_NODES,
    MAX_SET_VALUES,
};

/// Location prefix in error messages, so they read `filter.price.$gt: ...`.
const ROOT: &str = "filter";

/// Field operators, listed so a misplaced one gets a better hint than "unknown".
const FIELD_OPERATORS: [&str; 9] = [
    "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists",
];

pub(super) fn parse(value: &Value) -> Result<Filter, FilterError> {
    let object = expect_object(value, ROOT)?;
    Parser { nodes: 0 }.object(object, ROOT, 1)
}

/// Carries the node budget across the whole filter.
struct Parser {
    nodes: usize,
}

impl Parser {
    /// Charges one node; the budget bounds both parse and evaluation work.
    fn charge(&mut self) -> Result<(), FilterError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(FilterError::TooManyNodes { max: MAX_NODES });
        }
        Ok(())
    }

    /// A filter object: the implicit AND of its entries.
    fn object(
        &mut self,
        object: &Map<String, Value>,
        at: &str,
        depth: usize,
    ) -> Result<Filter, FilterError> {
        check_depth(depth, at)?;
        let mut clauses = Vec::with_capacity(object.len());
        for (key, value) in object {
            self.charge()?;
            let here = format!("{at}.{key}");
            let clause = match key.as_str() {
                "$and" => all_of(self.list(value, "$and", &here, depth)?),
                "$or" => any_of(self.list(value, "$or", &here, depth)?),
                "$not" => {
                    let inner = expect_object(value, &here)?;
                    Filter::Not(Box::new(self.object(inner, &here, depth + 1)?))
                }
                op if op.starts_with('$') => return Err(operator_error(op, here, true)),
                _ => self.field(key, value, &here, depth)?,
            };
            clauses.push(clause);
        }
        Ok(all_of(clauses))
    }

    /// The operand of `$and`/`$or`: a non-empty array of filter objects.
    fn list(
        &mut self,
        value: &Value,
        operator: &'static str,
        at: &str,
        depth: usize,
    ) -> Result<Vec<Filter>, FilterError> {
        let items = value.as_array().ok_or_else(|| FilterError::ExpectedArray {
            at: at.to_owned(),
            operator,
            found: kind(value),
        })?;
        if items.is_empty() {
            return Err(FilterError::EmptyArray {
                at: at.to_owned(),
                operator,
            });
        }
        let mut filters = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            self.charge()?;
            let here = format!("{at}[{i}]");
            let object = expect_object(item, &here)?;
            filters.push(self.object(object, &here, depth + 1)?);
        }
        Ok(filters)
    }

    /// `"field": value` — implicit equality or an object of operators.
    fn field(
        &mut self,
        key: &str,
        value: &Value,
        at: &str,
        depth: usize,
    ) -> Result<Filter, FilterError> {
        let path = FieldPath::parse(key)
            .ok_or_else(|| FilterError::EmptyFieldName { at: at.to_owned() })?;
        match value {
            Value::Object(operators) => self.conditions(&path, operators, at, depth),
            _ => Ok(Filter::Field {
                op: Op::Eq(scalar(value, at)?),
                path,
            }),
        }
    }

    /// `{"$gte": 1, "$lt": 5, ...}` on one field: the AND of its operators.
    fn conditions(
        &mut self,
        path: &FieldPath,
        operators: &Map<String, Value>,
        at: &str,
        depth: usize,
    ) -> Result<Filter, FilterError> {
        check_depth(depth, at)?;
        if operators.is_empty() {
            return Err(FilterError::EmptyCondition { at: at.to_owned() });
        }
        let mut clauses = Vec::with_capacity(operators.len());
        for (key, value) in operators {
            self.charge()?;
            let here = format!("{at}.{key}");
            let op = match key.as_str() {
                "$eq" => Op::Eq(scalar(value, &here)?),
                "$ne" => Op::Ne(scalar(value, &here)?),
                "$gt" => Op::Gt(bound(value, "$gt", &here)?),
                "$gte" => Op::Gte(bound(value, "$gte", &here)?),
                "$lt" => Op::Lt(bound(value, "$lt", &here)?),
                "$lte" => Op::Lte(bound(value, "$lte", &here)?),
                "$in" => Op::In(self.set(value, "$in", &here)?),
                "$nin" => Op::Nin(self.set(value, "$nin", &here)?),
                "$exists" => {
                    Op::Exists(value.as_bool().ok_or_else(|| FilterError::ExpectedBool {
                        at: here.clone(),
                        found: kind(value),
                    })?)
                }
                "$not" => {
                    let inner = expect_object(value, &here)?;
                    let negated = self.conditions(path, inner, &here, depth + 1)?;
                    clauses.push(Filter::Not(Box::new(negated)));
                    continue;
                }
                op if op.starts_with('$') => return Err(operator_error(op, here, false)),
                _ => {
                    return Err(FilterError::ExpectedOperator {
                        at: at.to_owned(),
                        field: path.to_string(),
                        key: key.clone(),
                    })
                }
            };
            clauses.push(Filter::Field {
                path: path.clone(),
                op,
            });
        }
        Ok(all_of(clauses))
    }

    /// The operand of `$in`/`$nin`: an array of at most `MAX_SET_VALUES` scalars.
    fn set(
        &mut self,
        value: &Value,
        operator: &'static str,
        at: &str,
    ) -> Result<ValueSet, FilterError> {
        let items = value.as_array().ok_or_else(|| FilterError::ExpectedArray {
            at: at.to_owned(),
            operator,
            found: kind(value),
        })?;
        if items.len() > MAX_SET_VALUES {
            return Err(FilterError::TooManyValues {
                at: at.to_owned(),
                operator,
                len: items.len(),
                max: MAX_SET_VALUES,
            });
        }
        let mut scalars = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            self.charge()?;
            let here = format!("{at}[{i}]");
            // Nested arrays are plain non-scalars here, not the "use $in" case.
            if item.is_array() {
                return Err(FilterError::ExpectedScalar {
                    at: here,
                    found: kind(item),
                });
            }
            scalars.push(scalar(item, &here)?);
        }
        Ok(ValueSet::new(scalars))
    }
}

fn check_depth(depth: usize, at: &str) -> Result<(), FilterError> {
    if depth > MAX_DEPTH {
        return Err(FilterError::TooDeep {
            at: at.to_owned(),
            max: MAX_DEPTH,
        });
    }
    Ok(())
}

/// Error for a `$key` that is not valid where it appears; a known operator in
/// the wrong place gets a hint instead of "unknown".
fn operator_error(operator: &str, at: String, top_level: bool) -> FilterError {
    let (misplaced, hint): (&[&'static str], _) = if top_level {
        (
            &FIELD_OPERATORS,
            "field operators go inside a field, e.g. {\"price\": {\"$gt\": 10}}",
        )
    } else {
        (
            &["$and", "$or"],
            "$and/$or combine whole filters, e.g. {\"$or\": [{\"a\": 1}, {\"b\": 2}]}",
        )
    };
    match misplaced.iter().find(|op| **op == operator) {
        Some(op) => FilterError::MisplacedOperator {
            at,
            operator: op,
            hint,
        },
        None => FilterError::UnknownOperator {
            at,
            operator: operator.to_owned(),
        },
    }
}

fn expect_object<'a>(value: &'a Value, at: &str) -> Result<&'a Map<String, Value>, FilterError> {
    value.as_object().ok_or_else(|| FilterError::NotAnObject {
        at: at.to_owned(),
        found: kind(value),
    })
}

/// An equality operand: string, number or boolean.
fn scalar(value: &Value, at: &str) -> Result<Scalar, FilterError> {
    match value {
        Value::Bool(b) => Ok(Scalar::Bool(*b)),
        Value::String(s) => Ok(Scalar::String(s.clone())),
        Value::Number(n) => {
            n.as_f64()
                .map(Scalar::Number)
                .ok_or_else(|| FilterError::ExpectedScalar {
                    at: at.to_owned(),
                    found: "a number that does not fit in f64",
                })
        }
        Value::Array(_) => Err(FilterError::ArrayValue { at: at.to_owned() }),
        Value::Null | Value::Object(_) => Err(FilterError::ExpectedScalar {
            at: at.to_owned(),
            found: kind(value),
        }),
    }
}

/// A range operand: number or string.
fn bound(value: &Value, operator: &'static str, at: &str) -> Result<Bound, FilterError> {
    match value {
        Value::String(s) => Some(Bound::String(s.clone())),
        Value::Number(n) => n.as_f64().map(Bound::Number),
        _ => None,
    }
    .ok_or_else(|| FilterError::InvalidRangeOperand {
        at: at.to_owned(),
        operator,
        found: kind(value),
    })
}

/// AND of clauses, flattening nested ANDs (which also drops match-alls).
fn all_of(clauses: Vec<Filter>) -> Filter {
    let mut flat = Vec::with_capacity(clauses.len());
    for clause in clauses {
        match clause {
            Filter::And(inner) => flat.extend(inner),
            other => flat.push(other),
        }
    }
    single_or(flat, Filter::And)
}

/// OR of clauses, flattening nested ORs; a match-all clause makes it match-all.
fn any_of(clauses: Vec<Filter>) -> Filter {
    if clauses.iter().any(Filter::is_match_all) {
        return Filter::match_all();
    }
    let mut flat = Vec::with_capacity(clauses.len());
    for clause in clauses {
        match clause {
            Filter::Or(inner) => flat.extend(inner),
            other => flat.push(other),
        }
    }
    single_or(flat, Filter::Or)
}

/// Unwraps a one-clause AND/OR so evaluation skips a level.
fn single_or(mut clauses: Vec<Filter>, wrap: fn(Vec<Filter>) -> Filter) -> Filter {
    match clauses.pop() {
        Some(only) if clauses.is_empty() => only,
        Some(last) => {
            clauses.push(last);
            wrap(clauses)
        }
        None => wrap(clauses),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::{FieldPath, Filter, FilterError, Op, Scalar, ValueSet};

    fn err(filter: Value) -> FilterError {
        match Filter::parse(&filter) {
            Ok(parsed) => panic!("{filter} should be rejected, parsed to {parsed:?}"),
            Err(e) => e,
        }
    }

    fn ok(filter: Value) -> Filter {
        match Filter::parse(&filter) {
            Ok(parsed) => parsed,
            Err(e) => panic!("{filter} should parse: {e}"),
        }
    }

    /// `depth` nested filter objects: `{"$not": {"$not": ... {"a": 1}}}`.
    fn nested_nots(depth: usize) -> Value {
        (1..depth).fold(json!({"a": 1}), |inner, _| json!({ "$not": inner }))
    }

    #[test]
    fn empty_filter_is_match_all() {
        assert!(ok(json!({})).is_match_all());
        assert_eq!(ok(json!({})), Filter::match_all());
        assert_eq!(Filter::default(), Filter::match_all());
        assert!(!ok(json!({"a": 1})).is_match_all());
    }

    #[test]
    fn and_of_empty_filters_is_match_all() {
        assert!(ok(json!({"$and": [{}, {}]})).is_match_all());
        assert!(ok(json!({"$or": [{"a": 1}, {}]})).is_match_all());
    }

    #[test]
    fn dotted_paths_are_split_at_parse_time() {
        let expected = Filter::Field {
            path: FieldPath::parse("a.b").expect("valid path"),
            op: Op::Eq(Scalar::Number(1.0)),
        };
        assert_eq!(ok(json!({"a.b": 1})), expected);
        let path = FieldPath::parse("a.b").expect("valid path");
        assert_eq!(path.segments.len(), 2);
        assert_eq!(path.to_string(), "a.b");
    }

    #[test]
    fn in_lists_compare_as_sets() {
        assert_eq!(
            ok(json!({"a": {"$in": [1, 2, 2, "x"]}})),
            ok(json!({"a": {"$in": ["x", 2.0, 1]}}))
        );
        let many: Vec<i64> = (0..100).collect();
        let mut reversed = many.clone();
        reversed.reverse();
        assert_eq!(
            ok(json!({"a": {"$in": many}})),
            ok(json!({"a": {"$in": reversed}}))
        );
        let set = ValueSet::new([Scalar::Number(1.0), Scalar::Number(1.0)]);
        assert_eq!(set.len(), 1);
        assert_ne!(
            ok(json!({"a": {"$in": [1]}})),
            ok(json!({"a": {"$in": [2]}}))
        );
    }

    #[test]
    fn non_object_filter_is_rejected() {
        for filter in [json!(null), json!(1), json!("a"), json!([{"a": 1}])] {
            assert!(matches!(err(filter), FilterError::NotAnObject { .. }));
        }
    }

    #[test]
    fn unknown_operator_is_named_in_the_error() {
        let e = err(json!({"price": {"$regex": "a.*"}}));
        assert!(
            matches!(&e, FilterError::UnknownOperator { operator, at } if operator == "$regex" && at == "filter.price.$regex")
        );
        assert!(e.to_string().contains("$regex"));
        assert!(matches!(
            err(json!({"$nor": [{"a": 1}]})),
            FilterError::UnknownOperator { .. }
        ));
    }

    #[test]
    fn field_operator_at_top_level_is_misplaced() {
        assert!(matches!(
            err(json!({"$eq": 1})),
            FilterError::MisplacedOperator {
                operator: "$eq",
                ..
            }
        ));
    }

    #[test]
    fn logical_operator_inside_field_condition_is_misplaced() {
        assert!(matches!(
            err(json!({"a": {"$or": [{"$eq": 1}]}})),
            FilterError::MisplacedOperator {
                operator: "$or",
                ..
            }
        ));
    }

    #[test]
    fn and_and_or_require_an_array() {
        for op in ["$and", "$or"] {
            assert!(matches!(
                err(json!({ op: {"a": 1} })),
                FilterError::ExpectedArray { .. }
            ));
        }
    }

    #[test]
    fn and_and_or_require_a_non_empty_array() {
        for op in ["$and", "$or"] {
            assert!(matches!(
                err(json!({ op: [] })),
                FilterError::EmptyArray { .. }
            ));
        }
    }

    #[test]
    fn and_and_or_elements_must_be_objects() {
        let e = err(json!({"$and": [{"a": 1}, 2]}));
        assert!(matches!(&e, FilterError::NotAnObject { at, .. } if at == "filter.$and[1]"));
        assert!(matches!(
            err(json!({"$or": [[{"a": 1}]]})),
            FilterError::NotAnObject { .. }
        ));
    }

    #[test]
    fn not_requires_an_object() {
        assert!(matches!(
            err(json!({"$not": [{"a": 1}]})),
            FilterError::NotAnObject { .. }
        ));
        assert!(matches!(
            err(json!({"a": {"$not": 1}})),
            FilterError::NotAnObject { .. }
        ));
    }

    #[test]
    fn in_and_nin_require_an_array() {
        for op in ["$in", "$nin"] {
            assert!(matches!(
                err(json!({"a": { op: 1 }})),
                FilterError::ExpectedArray { .. }
            ));
        }
    }

    #[test]
    fn in_and_nin_values_must_be_scalars() {
        for op in ["$in", "$nin"] {
            for bad in [json!(null), json!({"b": 1}), json!([1])] {
                let e = err(json!({"a": { op: [1, bad] }}));
                assert!(
                    matches!(&e, FilterError::ExpectedScalar { at, .. } if at.ends_with("[1]")),
                    "{e:?}"
                );
            }
        }
    }

    #[test]
    fn in_accepts_at_most_1024_values() {
        let max: Vec<usize> = (0..1024).collect();
        ok(json!({"a": {"$in": max}}));
        let over: Vec<usize> = (0..1025).collect();
        assert!(matches!(
            err(json!({"a": {"$nin": over}})),
            FilterError::TooManyValues {
                len: 1025,
                max: 1024,
                ..
            }
        ));
    }

    #[test]
    fn exists_requires_a_bool() {
        for bad in [json!(1), json!("true"), json!(null)] {
            assert!(matches!(
                err(json!({"a": {"$exists": bad}})),
                FilterError::ExpectedBool { .. }
            ));
        }
    }

    #[test]
    fn range_operators_require_a_number_or_string() {
        for op in ["$gt", "$gte", "$lt", "$lte"] {
            for bad in [json!(true), json!(null), json!([1]), json!({"b": 1})] {
                assert!(matches!(
                    err(json!({"a": { op: bad }})),
                    FilterError::InvalidRangeOperand { .. }
                ));
            }
            ok(json!({"a": { op: 1.5 }}));
            ok(json!({"a": { op: "m" }}));
        }
    }

    #[test]
    fn equality_operand_must_be_a_scalar() {
        for filter in [
            json!({"a": null}),
            json!({"a": {"$eq": null}}),
            json!({"a": {"$ne": {"b": 1}}}),
        ] {
            assert!(matches!(err(filter), FilterError::ExpectedScalar { .. }));
        }
    }

    #[test]
    fn array_as_equality_value_is_rejected() {
        for filter in [
            json!({"a": [1, 2]}),
            json!({"a": {"$eq": [1]}}),
            json!({"a": {"$ne": []}}),
        ] {
            assert!(matches!(err(filter), FilterError::ArrayValue { .. }));
        }
    }

    #[test]
    fn object_without_operators_is_rejected() {
        let e = err(json!({"a": {"b": 1}}));
        assert!(matches!(&e, FilterError::ExpectedOperator { key, .. } if key == "b"));
        assert!(e.to_string().contains("a.b"), "{e}");
        assert!(matches!(
            err(json!({"a": {"$gt": 1, "b": 2}})),
            FilterError::ExpectedOperator { .. }
        ));
    }

    #[test]
    fn empty_condition_object_is_rejected() {
        assert!(matches!(
            err(json!({"a": {}})),
            FilterError::EmptyCondition { .. }
        ));
        assert!(matches!(
            err(json!({"a": {"$not": {}}})),
            FilterError::EmptyCondition { .. }
        ));
    }

    #[test]
    fn empty_field_name_is_rejected() {
        for name in ["", "a..b", ".a", "a."] {
            assert!(matches!(
                err(json!({ name: 1 })),
                FilterError::EmptyFieldName { .. }
            ));
        }
    }

    #[test]
    fn nesting_of_32_levels_is_accepted() {
        ok(nested_nots(32));
    }

    #[test]
    fn nesting_deeper_than_32_levels_is_rejected() {
        assert!(matches!(
            err(nested_nots(33)),
            FilterError::TooDeep { max: 32, .. }
        ));
        // The limit is checked before descending, whatever the input depth.
        assert!(matches!(
            err(nested_nots(1_000)),
            FilterError::TooDeep { .. }
        ));
        let mut field_level = json!({"$eq": 1});
        for _ in 0..40 {
            field_level = json!({ "$not": field_level });
        }
        assert!(matches!(
            err(json!({ "a": field_level })),
            FilterError::TooDeep { .. }
        ));
    }

    #[test]
    fn more_than_10000_nodes_is_rejected() {
        let clauses: Vec<Value> = (0..10_001).map(|i| json!({ "a": i })).collect();
        assert!(matches!(
            err(json!({ "$or": clauses })),
            FilterError::TooManyNodes { max: 10_000 }
        ));
        let sets: Vec<Value> = (0..10)
            .map(|_| json!({"a": {"$in": (0..1024).collect::<Vec<_>>()}}))
            .collect();
        assert!(matches!(
            err(json!({ "$and": sets })),
            FilterError::TooManyNodes { .. }
        ));
    }

    #[test]
    fn error_messages_say_where() {
        let e = err(json!({"$and": [{"a": 1}, {"price": {"$gte": true}}]}));
        let message = e.to_string();
        assert!(
            message.starts_with("filter.$and[1].price.$gte:"),
            "{message}"
        );
        assert!(message.contains("number or a string"), "{message}");
    }
}
