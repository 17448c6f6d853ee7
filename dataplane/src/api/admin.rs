//! Health, readiness, metrics and flush.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;

use akidb_client::{ErrorBody, FlushResponse};

use super::error::ApiError;
use super::AppState;
use crate::error::DbError;

#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "the process is alive")))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "collections loaded, WALs replayed"),
    (status = 503, body = ErrorBody)))]
pub async fn readyz(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    if s.engine.is_ready() {
        Ok(Json(serde_json::json!({ "status": "ready" })))
    } else {
        Err(DbError::NotReady.into())
    }
}

#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::render(&s.engine),
    )
}

#[utoipa::path(post, path = "/admin/flush", responses((status = 200, body = FlushResponse)))]
pub async fn flush(State(s): State<AppState>) -> Result<Json<FlushResponse>, ApiError> {
    Ok(Json(FlushResponse {
        flushed: s.engine.flush().await?,
    }))
}
