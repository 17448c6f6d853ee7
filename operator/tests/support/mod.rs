//! An in-memory Kubernetes API (kube-fake-client) that records every write call, and helpers to
//! build a controller `Context` on it.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use akidb_operator::context::{Context, DataPlaneResolver};
use akidb_operator::crd::{AkiCluster, AkiCollection};
use akidb_operator::metrics::Metrics;
use k8s_openapi::api::core::v1::Secret;
use kube_fake_client::{interceptor, ClientBuilder};
use serde_json::Value;

/// One write call the operator made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub verb: &'static str,
    pub kind: String,
    pub name: String,
}

/// The log of write calls; `take()` empties it.
#[derive(Clone, Default)]
pub struct Writes(Arc<Mutex<Vec<Write>>>);

impl Writes {
    fn push(&self, verb: &'static str, obj: Option<&Value>, name: &str) {
        let kind = obj
            .and_then(|o| o.get("kind"))
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let name = if name.is_empty() {
            obj.and_then(|o| o.pointer("/metadata/name"))
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string()
        } else {
            name.to_string()
        };
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Write { verb, kind, name });
    }

    pub fn take(&self) -> Vec<Write> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Writes other than Events.
    pub fn take_objects(&self) -> Vec<Write> {
        self.take()
            .into_iter()
            .filter(|w| w.kind != "Event")
            .collect()
    }
}

/// What a test holds: the client and the write log.
pub struct FakeApi {
    pub client: kube::Client,
    pub writes: Writes,
}

/// Builds the fake API with `objects` already stored (as JSON values, any kind).
pub async fn fake_api(objects: Vec<Value>) -> FakeApi {
    fake_api_failing(objects, None).await
}

/// Like [`fake_api`], but every patch of kind `fail_kind` fails with an internal error.
pub async fn fake_api_failing(objects: Vec<Value>, fail_kind: Option<&'static str>) -> FakeApi {
    let writes = Writes::default();
    let (w1, w2, w3, w4, w5, w6) = (
        writes.clone(),
        writes.clone(),
        writes.clone(),
        writes.clone(),
        writes.clone(),
        writes.clone(),
    );
    let funcs = interceptor::Funcs::new()
        .create(move |c| {
            w1.push("create", Some(c.object), "");
            Ok(None)
        })
        .patch(move |c| {
            w2.push("patch", Some(c.patch), c.name);
            match fail_kind {
                Some(k) if c.patch.get("kind").and_then(Value::as_str) == Some(k) => Err(
                    kube_fake_client::Error::Internal(format!("injected failure for {k}")),
                ),
                _ => Ok(None),
            }
        })
        .update(move |c| {
            w3.push("update", Some(c.object), "");
            Ok(None)
        })
        .replace(move |c| {
            w4.push("replace", Some(c.object), c.name);
            Ok(None)
        })
        .delete(move |c| {
            w5.push("delete", None, c.name);
            Ok(None)
        })
        .patch_status(move |c| {
            w6.push("patch_status", Some(c.patch), c.name);
            Ok(None)
        });
    let client = ClientBuilder::new()
        .with_resource::<AkiCluster>()
        .with_resource::<AkiCollection>()
        .with_status_subresource::<AkiCluster>()
        .with_status_subresource::<AkiCollection>()
        .with_runtime_objects(objects)
        .with_interceptor_funcs(funcs)
        .build()
        .await
        .expect("fake API");
    FakeApi { client, writes }
}

/// A Context on the fake API, reaching every cluster's data plane at `url`.
pub fn context(client: &kube::Client, url: &str) -> Arc<Context> {
    Context::new(
        client.clone(),
        Metrics::new().expect("metrics"),
        DataPlaneResolver::Fixed(url.to_string()),
    )
}

pub fn json<T: serde::Serialize>(o: &T) -> Value {
    serde_json::to_value(o).expect("serialize")
}

pub fn secret(name: &str, keys: &[&str]) -> Secret {
    akidb_operator::testing::fixtures::secret(name, keys)
}
