//! Upsert, delete and point-read handlers.

use axum::extract::State;
use axum::Json;

use akidb_client::{
    DeleteRequest, DeleteResponse, ErrorBody, Record, UpsertRequest, UpsertResponse,
};

use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::AppState;
use crate::error::DbError;
use crate::filter::Filter;

#[utoipa::path(post, path = "/v1/collections/{name}/upsert", request_body = UpsertRequest,
    responses((status = 200, body = UpsertResponse), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn upsert(
    State(s): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(req): ApiJson<UpsertRequest>,
) -> Result<Json<UpsertResponse>, ApiError> {
    let c = s.engine.get(&name)?;
    let upserted = c.upsert(req.records).await?;
    Ok(Json(UpsertResponse { upserted }))
}

#[utoipa::path(post, path = "/v1/collections/{name}/delete", request_body = DeleteRequest,
    responses((status = 200, body = DeleteResponse), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(req): ApiJson<DeleteRequest>,
) -> Result<Json<DeleteResponse>, ApiError> {
    let c = s.engine.get(&name)?;
    let deleted = match (req.ids, req.filter) {
        (Some(ids), None) => c.delete_ids(ids).await?,
        (None, Some(f)) => {
            let filter = Filter::parse(&f).map_err(DbError::from)?;
            if filter.is_match_all() {
                return Err(DbError::InvalidRequest(
                    "an empty filter would delete everything; drop the collection instead".into(),
                )
                .into());
            }
            c.delete_filter(filter).await?
        }
        _ => {
            return Err(
                DbError::InvalidRequest("give exactly one of `ids` or `filter`".into()).into(),
            )
        }
    };
    Ok(Json(DeleteResponse { deleted }))
}

#[utoipa::path(get, path = "/v1/collections/{name}/records/{id}",
    responses((status = 200, body = Record), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    ApiPath((name, id)): ApiPath<(String, String)>,
) -> Result<Json<Record>, ApiError> {
    Ok(Json(s.engine.get(&name)?.get_record(&id)?))
}
