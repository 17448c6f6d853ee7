//! Vector fields deserialise every number through f64 and then narrow to f32, so a value beyond
//! f32's range becomes infinity and is refused by the server's own `invalid_vector` check,
//! whichever serde_json features the build happens to unify (`float_roundtrip` would otherwise
//! make it a JSON error).

use std::fmt;

use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

/// One narrowed number.
struct Narrow(f32);

impl<'de> Deserialize<'de> for Narrow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Narrow(f64::deserialize(d)? as f32))
    }
}

struct VecVisitor;

impl<'de> Visitor<'de> for VecVisitor {
    type Value = Vec<f32>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of numbers")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Narrow(x)) = seq.next_element()? {
            out.push(x);
        }
        Ok(out)
    }
}

/// A vector of numbers.
struct Vector(Vec<f32>);

impl<'de> Deserialize<'de> for Vector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(VecVisitor).map(Vector)
    }
}

pub fn vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
    Ok(Vector::deserialize(d)?.0)
}

pub fn opt_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<f32>>, D::Error> {
    Ok(Option::<Vector>::deserialize(d)?.map(|v| v.0))
}

pub fn opt_vecs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Vec<f32>>>, D::Error> {
    Ok(Option::<Vec<Vector>>::deserialize(d)?.map(|vs| vs.into_iter().map(|v| v.0).collect()))
}
