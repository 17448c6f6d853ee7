//! A thin async client over the `/v1` and admin routes, used by the operator, the benchmark and the
//! tests. Every non-2xx answer becomes [`ClientError::Api`] carrying the server's error code.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use crate::types::*;

/// What can go wrong talking to a data-plane pod.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The base URL or a path segment could not form a URL (caller's fault).
    #[error("invalid url: {0}")]
    Url(#[from] url::ParseError),
    /// The server could not be reached or the connection broke.
    #[error("transport error: {0}")]
    Transport(#[source] reqwest::Error),
    /// The server answered with an error status and body.
    #[error("{status} {code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    /// A 2xx body that is not what the contract says.
    #[error("unexpected response body: {0}")]
    Decode(String),
}

impl ClientError {
    /// The server's error code, when the server answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Client for one data-plane endpoint (a pod or a Service).
#[derive(Debug, Clone)]
pub struct AkiClient {
    base: Url,
    http: reqwest::Client,
}

type Result<T> = std::result::Result<T, ClientError>;

impl AkiClient {
    /// `base` like `http://127.0.0.1:8080`.
    pub fn new(base: &str) -> Result<Self> {
        Self::with_timeout(base, Duration::from_secs(30))
    }

    pub fn with_timeout(base: &str, timeout: Duration) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .pool_max_idle_per_host(64)
            .build()
            .map_err(ClientError::Transport)?;
        Ok(AkiClient {
            base: Url::parse(base)?,
            http,
        })
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    fn url(&self, segments: &[&str]) -> Result<Url> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| ClientError::Url(url::ParseError::RelativeUrlWithCannotBeABaseBase))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T> {
        let resp = req.send().await.map_err(ClientError::Transport)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(ClientError::Transport)?;
        if !status.is_success() {
            return Err(api_error(status.as_u16(), &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode(e.to_string()))
    }

    async fn get<T: DeserializeOwned>(&self, segments: &[&str]) -> Result<T> {
        self.send(self.http.get(self.url(segments)?)).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &B,
    ) -> Result<T> {
        self.send(self.http.post(self.url(segments)?).json(body))
            .await
    }

    pub async fn create_collection(&self, req: &CreateCollection) -> Result<CollectionInfo> {
        self.post(&["v1", "collections"], req).await
    }

    pub async fn list_collections(&self) -> Result<CollectionList> {
        self.get(&["v1", "collections"]).await
    }

    pub async fn get_collection(&self, name: &str) -> Result<CollectionInfo> {
        self.get(&["v1", "collections", name]).await
    }

    pub async fn update_collection(
        &self,
        name: &str,
        req: &UpdateCollection,
    ) -> Result<CollectionInfo> {
        let url = self.url(&["v1", "collections", name])?;
        self.send(self.http.patch(url).json(req)).await
    }

    /// Deletes the collection and all its data; a 404 is returned as an error.
    pub async fn delete_collection(&self, name: &str) -> Result<()> {
        let url = self.url(&["v1", "collections", name])?;
        let _: serde_json::Value = self.send(self.http.delete(url)).await?;
        Ok(())
    }

    pub async fn upsert(&self, collection: &str, records: Vec<Record>) -> Result<UpsertResponse> {
        let body = UpsertRequest { records };
        self.post(&["v1", "collections", collection, "upsert"], &body)
            .await
    }

    pub async fn delete(&self, collection: &str, req: &DeleteRequest) -> Result<DeleteResponse> {
        self.post(&["v1", "collections", collection, "delete"], req)
            .await
    }

    pub async fn get_record(&self, collection: &str, id: &str) -> Result<Record> {
        self.get(&["v1", "collections", collection, "records", id])
            .await
    }

    /// Single-vector query (`req.vector` set).
    pub async fn query(&self, collection: &str, req: &QueryRequest) -> Result<QueryResponse> {
        self.post(&["v1", "collections", collection, "query"], req)
            .await
    }

    /// Batch query (`req.vectors` set).
    pub async fn query_batch(
        &self,
        collection: &str,
        req: &QueryRequest,
    ) -> Result<BatchQueryResponse> {
        self.post(&["v1", "collections", collection, "query"], req)
            .await
    }

    /// Seals and persists every collection's growing segment.
    pub async fn flush(&self) -> Result<FlushResponse> {
        self.post(&["admin", "flush"], &serde_json::json!({})).await
    }

    /// True when `/readyz` answers 200.
    pub async fn ready(&self) -> Result<bool> {
        self.answers_ok("readyz").await
    }

    /// True when `/healthz` answers 200.
    pub async fn healthy(&self) -> Result<bool> {
        self.answers_ok("healthz").await
    }

    async fn answers_ok(&self, path: &str) -> Result<bool> {
        let resp = self
            .http
            .get(self.url(&[path])?)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        Ok(resp.status().is_success())
    }

    /// The Prometheus text exposition.
    pub async fn metrics_text(&self) -> Result<String> {
        let resp = self
            .http
            .get(self.url(&["metrics"])?)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        resp.text().await.map_err(ClientError::Transport)
    }
}

fn api_error(status: u16, body: &[u8]) -> ClientError {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) => ClientError::Api {
            status,
            code: b.error.code,
            message: b.error.message,
        },
        Err(_) => ClientError::Api {
            status,
            code: "unknown".to_string(),
            message: String::from_utf8_lossy(body).chars().take(512).collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_escape_path_segments() {
        let c = AkiClient::new("http://127.0.0.1:9/").expect("client");
        let u = c.url(&["v1", "collections", "a b/c"]).expect("url");
        assert_eq!(u.as_str(), "http://127.0.0.1:9/v1/collections/a%20b%2Fc");
    }

    #[test]
    fn error_body_is_decoded() {
        let e = api_error(
            404,
            br#"{"error":{"code":"collection_not_found","message":"no"}}"#,
        );
        assert_eq!(e.code(), Some("collection_not_found"));
        assert_eq!(e.status(), Some(404));
        let e = api_error(502, b"bad gateway");
        assert_eq!(e.code(), Some("unknown"));
    }
}
