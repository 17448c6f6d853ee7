//! The AkiDB data-plane REST contract: request/response types shared by the server, the operator and
//! the tests, plus a small async HTTP client. Keeping these here means nothing but the server links FAISS.

pub mod client;
mod f32s;
pub mod types;

pub use client::{AkiClient, ClientError};
pub use types::*;
