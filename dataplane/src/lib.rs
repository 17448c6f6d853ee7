//! AkiDB data plane: a FAISS-backed vector server.
//!
//! - [`api`]: the REST routes and their error mapping.
//! - [`engine`]: the collections of one server; [`collection`]: one collection's read, write,
//!   seal and load paths.
//! - [`segment`]: rows + FAISS index, persisted as Parquet; [`index`]: the FAISS wrapper.
//! - [`wal`]: the per-collection write-ahead log; [`ops`]: what a WAL record holds.
//! - [`manifest`]: committed collection state in the object store.
//! - [`filter`]: metadata filters; [`validate`]: input checks; [`config`]; [`metrics`].

pub mod api;
pub mod collection;
pub mod config;
pub mod engine;
pub mod error;
pub mod filter;
pub mod index;
pub mod manifest;
pub mod metrics;
pub mod ops;
pub mod segment;
pub mod server;
pub mod validate;
pub mod wal;
