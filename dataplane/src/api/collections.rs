//! `/v1/collections` handlers: extract, call the engine, shape the answer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use akidb_client::{CollectionInfo, CollectionList, CreateCollection, ErrorBody, UpdateCollection};

use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::AppState;

#[utoipa::path(post, path = "/v1/collections", request_body = CreateCollection,
    responses((status = 201, body = CollectionInfo), (status = 400, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<CreateCollection>,
) -> Result<(StatusCode, Json<CollectionInfo>), ApiError> {
    let info = s.engine.create(req).await?;
    Ok((StatusCode::CREATED, Json(info)))
}

#[utoipa::path(get, path = "/v1/collections", responses((status = 200, body = CollectionList)))]
pub async fn list(State(s): State<AppState>) -> Result<Json<CollectionList>, ApiError> {
    Ok(Json(CollectionList {
        collections: s.engine.list()?,
    }))
}

#[utoipa::path(get, path = "/v1/collections/{name}",
    responses((status = 200, body = CollectionInfo), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<CollectionInfo>, ApiError> {
    Ok(Json(s.engine.get(&name)?.info()))
}

#[utoipa::path(patch, path = "/v1/collections/{name}", request_body = UpdateCollection,
    responses((status = 200, body = CollectionInfo), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateCollection>,
) -> Result<Json<CollectionInfo>, ApiError> {
    Ok(Json(s.engine.update(&name, req).await?))
}

#[utoipa::path(delete, path = "/v1/collections/{name}",
    responses((status = 200, description = "deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    s.engine.drop_collection(&name).await?;
    Ok(Json(serde_json::json!({ "deleted": name })))
}
