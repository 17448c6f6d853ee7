//! Fixture builders for the custom resources, shared by the unit tests, the reconciler tests and
//! the end-to-end harness. Real `akidb-dataplane` processes come from `akidb-testkit`.

pub mod fixtures;
