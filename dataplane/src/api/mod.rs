//! The REST API: routes, shared state, and the layers every request passes (body limit,
//! timeout, metrics, JSON error bodies for answers produced outside the handlers).

mod admin;
mod collections;
pub mod error;
mod extract;
mod query;
mod records;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::engine::Engine;
use error::{code_for_status, ApiError};

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "AkiDB data plane",
        description = "Vector collections over FAISS with tiered storage."
    ),
    paths(
        collections::create,
        collections::list,
        collections::get,
        collections::update,
        collections::delete,
        records::upsert,
        records::delete,
        records::get,
        query::query,
        admin::healthz,
        admin::readyz,
        admin::metrics,
        admin::flush
    ),
    components(schemas(akidb_client::BatchQueryResponse))
)]
pub struct ApiDoc;

/// The whole application, separate from `main` so tests can serve it.
pub fn app(engine: Arc<Engine>, max_body_bytes: usize, timeout: Duration) -> Router {
    let state = AppState { engine };
    let v1 = Router::new()
        .route(
            "/collections",
            post(collections::create).get(collections::list),
        )
        .route(
            "/collections/{name}",
            get(collections::get)
                .patch(collections::update)
                .delete(collections::delete),
        )
        .route("/collections/{name}/upsert", post(records::upsert))
        .route("/collections/{name}/delete", post(records::delete))
        .route("/collections/{name}/query", post(query::query))
        .route("/collections/{name}/records/{id}", get(records::get));
    let admin = Router::new().route("/flush", post(admin::flush));
    Router::new()
        .nest("/v1", v1)
        .nest("/admin", admin)
        .route("/healthz", get(admin::healthz))
        .route("/readyz", get(admin::readyz))
        .route("/metrics", get(admin::metrics))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn(record_metrics))
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// Gives error answers that carry no JSON body (405s, layer rejections) the standard body.
async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let s = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (s.is_client_error() || s.is_server_error()) && !is_json {
        let msg = s.canonical_reason().unwrap_or("error").to_string();
        return ApiError::new(s, code_for_status(s), msg).into_response();
    }
    resp
}

async fn record_metrics(req: Request<Body>, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().as_str().to_string();
    let resp = next.run(req).await;
    let status = resp.status();
    crate::metrics::HTTP_REQUESTS
        .with_label_values(&[&route, &method, status.as_str()])
        .inc();
    crate::metrics::HTTP_SECONDS
        .with_label_values(&[&route, &method])
        .observe(started.elapsed().as_secs_f64());
    resp
}
