//! Metadata filters in the Mongo-style syntax Pinecone and Chroma users know.
//!
//! A filter is parsed and validated once ([`Filter::parse`]) and then evaluated
//! against many records ([`Filter::matches`]), so all the work that can be done
//! up front (splitting dotted paths, hashing `$in` lists) happens at parse time
//! and evaluation never allocates.
//!
//! # Syntax
//!
//! * `{"group": 3}` — equality; several keys in one object are an implicit AND.
//! * `{"price": {"$gte": 10, "$lt": 20}}` — operators on a field (also ANDed).
//! * Field operators: `$eq $ne $gt $gte $lt $lte $in $nin $exists`, plus
//!   `{"field": {"$not": {...operators...}}}` as in Mongo.
//! * Logical operators: `{"$and": [..]}`, `{"$or": [..]}`, `{"$not": {..}}`.
//! * `{}` matches every record.
//!
//! # Semantics (Mongo's)
//!
//! * A dotted path `"a.b"` looks into nested objects (not into arrays of
//!   objects). A key that literally contains a dot cannot be addressed.
//! * Equality and `$in` against an array field match if any element matches.
//! * `$ne` and `$nin` are the exact negation of `$eq` and `$in`: they match
//!   when no element matches, and also when the field is missing.
//! * `$gt/$gte/$lt/$lte` compare numbers with numbers and strings with strings
//!   (lexicographically, by code point); against an array they match if any
//!   element does. Each operator is applied independently, so
//!   `{"$gt": 1, "$lt": 3}` on `[0, 5]` matches (5 > 1 and 0 < 3), as in Mongo.
//! * Values of different types never compare: such a condition is simply
//!   false (and its `$ne`/`$nin`/`$not` is true); it is never an error.
//! * All numbers compare as `f64`, so `3 == 3.0` (and very large integers may
//!   compare equal when they round to the same `f64`).
//! * `$exists: true` matches any present field, even `null`; `$exists: false`
//!   matches a missing field.
//!
//! # Validation
//!
//! Malformed filters are rejected at parse time with a [`FilterError`] whose
//! message names the location (e.g. `filter.$and[1].price.$gte`). Operands
//! must be strings, numbers or booleans (`null`, arrays and objects are not
//! comparable values); `$in`/`$nin` take at most [`MAX_SET_VALUES`] values;
//! filters nest at most [`MAX_DEPTH`] objects deep and contain at most
//! [`MAX_NODES`] conditions and values, which bounds the cost of evaluating a
//! user-supplied filter over a whole collection.

mod eval;
mod parse;

use std::collections::HashSet;
use std::fmt;

use serde_json::{Map, Value};

/// Deepest allowed nesting of filter objects (the root object is depth 1).
pub const MAX_DEPTH: usize = 32;
/// Most conditions, logical clauses and `$in` values one filter may hold.
pub const MAX_NODES: usize = 10_000;
/// Most values one `$in`/`$nin` list may hold.
pub const MAX_SET_VALUES: usize = 1024;

/// Up to this many distinct values a linear scan beats hashing the probe.
const SMALL_SET_MAX: usize = 16;

/// A parsed, validated filter; cheap to evaluate many times.
///
/// `And(vec![])` is the match-everything filter (see [`Filter::match_all`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Every clause matches (empty = always true).
    And(Vec<Filter>),
    /// At least one clause matches (never empty after parsing).
    Or(Vec<Filter>),
    /// The inner filter does not match.
    Not(Box<Filter>),
    /// One operator applied to the value at `path`.
    Field { path: FieldPath, op: Op },
}

/// A field path split on `.` at parse time so lookups never re-split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    segments: Box<[Box<str>]>,
}

/// A field operator with its pre-converted operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Eq(Scalar),
    Ne(Scalar),
    Gt(Bound),
    Gte(Bound),
    Lt(Bound),
    Lte(Bound),
    In(ValueSet),
    Nin(ValueSet),
    Exists(bool),
}

/// A value a field can be compared with for equality.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Bool(bool),
    Number(f64),
    String(String),
}

/// An operand of `$gt/$gte/$lt/$lte`; booleans are not ordered.
#[derive(Debug, Clone, PartialEq)]
pub enum Bound {
    Number(f64),
    String(String),
}

/// The deduplicated operand of `$in`/`$nin`, stored for cheap membership
/// tests: a short list is scanned, a long one is hashed by normalised key.
#[derive(Debug, Clone)]
pub struct ValueSet {
    repr: SetRepr,
}

#[derive(Debug, Clone)]
enum SetRepr {
    Small(Vec<Scalar>),
    Large(HashedSet),
}

/// Values split by type so a probe can be looked up without allocating.
#[derive(Debug, Clone, Default)]
struct HashedSet {
    strings: HashSet<Box<str>>,
    /// `f64` bits with `-0.0` folded into `0.0`, so `==` on numbers and
    /// equality of keys agree.
    numbers: HashSet<u64>,
    has_true: bool,
    has_false: bool,
}

/// Why a filter was rejected; `Display` is a user-facing message that starts
/// with the location of the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FilterError {
    #[error("{at}: expected a JSON object, found {found}")]
    NotAnObject { at: String, found: &'static str },
    #[error(
        "{at}: unknown operator '{operator}' (supported: $eq, $ne, $gt, $gte, $lt, $lte, \
         $in, $nin, $exists, $and, $or, $not)"
    )]
    UnknownOperator { at: String, operator: String },
    #[error("{at}: operator '{operator}' is not allowed here; {hint}")]
    MisplacedOperator {
        at: String,
        operator: &'static str,
        hint: &'static str,
    },
    #[error("{at}: '{operator}' expects an array, found {found}")]
    ExpectedArray {
        at: String,
        operator: &'static str,
        found: &'static str,
    },
    #[error("{at}: '{operator}' needs at least one filter")]
    EmptyArray { at: String, operator: &'static str },
    #[error("{at}: expected a string, number or boolean, found {found}")]
    ExpectedScalar { at: String, found: &'static str },
    #[error(
        "{at}: an array is not a comparable value; use {{\"$in\": [...]}} to match any of \
         several values"
    )]
    ArrayValue { at: String },
    #[error("{at}: '{operator}' accepts at most {max} values, found {len}")]
    TooManyValues {
        at: String,
        operator: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{at}: '$exists' expects true or false, found {found}")]
    ExpectedBool { at: String, found: &'static str },
    #[error("{at}: '{operator}' expects a number or a string, found {found}")]
    InvalidRangeOperand {
        at: String,
        operator: &'static str,
        found: &'static str,
    },
    #[error(
        "{at}: expected operators such as \"$eq\" or \"$gt\", found key '{key}'; to filter on \
         a nested field use the dotted path '{field}.{key}'"
    )]
    ExpectedOperator {
        at: String,
        field: String,
        key: String,
    },
    #[error("{at}: empty condition; expected at least one operator such as {{\"$eq\": ...}}")]
    EmptyCondition { at: String },
    #[error("{at}: field names must be non-empty and dotted paths must not have empty segments")]
    EmptyFieldName { at: String },
    #[error("{at}: filter is nested too deeply (at most {max} levels)")]
    TooDeep { at: String, max: usize },
    #[error("filter is too large (at most {max} conditions and values)")]
    TooManyNodes { max: usize },
}

impl Filter {
    /// Parses and validates a JSON filter.
    pub fn parse(value: &Value) -> Result<Filter, FilterError> {
        parse::parse(value)
    }

    /// Whether a record with this metadata passes the filter. Never allocates.
    pub fn matches(&self, metadata: &Map<String, Value>) -> bool {
        eval::matches(self, metadata)
    }

    /// The filter that matches every record (what `{}` parses to).
    pub fn match_all() -> Filter {
        Filter::And(Vec::new())
    }

    /// Lets callers skip evaluation entirely for unfiltered requests.
    pub fn is_match_all(&self) -> bool {
        matches!(self, Filter::And(clauses) if clauses.is_empty())
    }
}

impl Default for Filter {
    fn default() -> Self {
        Filter::match_all()
    }
}

impl FieldPath {
    /// Splits a dotted path; `None` if it or any segment is empty.
    pub fn parse(path: &str) -> Option<FieldPath> {
        let segments: Box<[Box<str>]> = path.split('.').map(Box::from).collect();
        if segments.iter().any(|s| s.is_empty()) {
            return None;
        }
        Some(FieldPath { segments })
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(segment)?;
        }
        Ok(())
    }
}

/// Folds `-0.0` into `0.0` so equal numbers hash equally.
fn number_key(x: f64) -> u64 {
    if x == 0.0 {
        0
    } else {
        x.to_bits()
    }
}

impl ValueSet {
    /// Builds a set, dropping duplicates (`1` and `1.0` are the same value).
    pub fn new(values: impl IntoIterator<Item = Scalar>) -> ValueSet {
        let mut hashed = HashedSet::default();
        for value in values {
            match value {
                Scalar::Bool(true) => hashed.has_true = true,
                Scalar::Bool(false) => hashed.has_false = true,
                Scalar::Number(x) => {
                    hashed.numbers.insert(number_key(x));
                }
                Scalar::String(s) => {
                    hashed.strings.insert(s.into_boxed_str());
                }
            }
        }
        let repr = if hashed.len() <= SMALL_SET_MAX {
            SetRepr::Small(hashed.to_vec())
        } else {
            SetRepr::Large(hashed)
        };
        ValueSet { repr }
    }

    /// Number of distinct values.
    fn len(&self) -> usize {
        match &self.repr {
            SetRepr::Small(values) => values.len(),
            SetRepr::Large(hashed) => hashed.len(),
        }
    }

    /// The distinct values, in no particular order.
    fn values(&self) -> Vec<Scalar> {
        match &self.repr {
            SetRepr::Small(values) => values.clone(),
            SetRepr::Large(hashed) => hashed.to_vec(),
        }
    }

    /// Whether a scalar JSON value is in the set; non-scalars never are.
    fn contains(&self, value: &Value) -> bool {
        match &self.repr {
            SetRepr::Small(values) => values.iter().any(|s| eval::scalar_eq(s, value)),
            SetRepr::Large(hashed) => match value {
                Value::Bool(true) => hashed.has_true,
                Value::Bool(false) => hashed.has_false,
                Value::Number(n) => n
                    .as_f64()
                    .is_some_and(|x| hashed.numbers.contains(&number_key(x))),
                Value::String(s) => hashed.strings.contains(s.as_str()),
                Value::Null | Value::Array(_) | Value::Object(_) => false,
            },
        }
    }
}

/// Compares as sets, since the order and duplicates of the list the user
/// wrote do not change what the filter means.
impl PartialEq for ValueSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.values().iter().all(|s| {
                let probe = match s {
                    Scalar::Bool(b) => Value::Bool(*b),
                    Scalar::Number(x) => {
                        serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number)
                    }
                    Scalar::String(s) => Value::String(s.clone()),
                };
                other.contains(&probe)
            })
    }
}

impl HashedSet {
    fn len(&self) -> usize {
        self.strings.len()
            + self.numbers.len()
            + usize::from(self.has_true)
            + usize::from(self.has_false)
    }

    fn to_vec(&self) -> Vec<Scalar> {
        let mut out = Vec::with_capacity(self.len());
        if self.has_true {
            out.push(Scalar::Bool(true));
        }
        if self.has_false {
            out.push(Scalar::Bool(false));
        }
        out.extend(
            self.numbers
                .iter()
                .map(|bits| Scalar::Number(f64::from_bits(*bits))),
        );
        out.extend(self.strings.iter().map(|s| Scalar::String(s.to_string())));
        out
    }
}
