//! Test support shared by the unit tests, the reconciler tests and the end-to-end harness:
//! fixture builders for the custom resources, and a real `akidb-dataplane` process on loopback.

pub mod dataplane;
pub mod fixtures;
