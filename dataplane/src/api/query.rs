//! The query handler: single (`vector`) or batch (`vectors`) form.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use akidb_client::{BatchQueryResponse, ErrorBody, QueryRequest, QueryResponse, SearchParams};

use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::AppState;
use crate::collection::Query;
use crate::error::DbError;
use crate::filter::Filter;

#[utoipa::path(post, path = "/v1/collections/{name}/query", request_body = QueryRequest,
    responses((status = 200, body = QueryResponse, description = "single form; the batch form answers BatchQueryResponse"),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn query(
    State(s): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(req): ApiJson<QueryRequest>,
) -> Result<Response, ApiError> {
    let c = s.engine.get(&name)?;
    let (vectors, batch) = match (req.vector, req.vectors) {
        (Some(v), None) => (vec![v], false),
        (None, Some(vs)) => (vs, true),
        _ => {
            return Err(
                DbError::InvalidRequest("give exactly one of `vector` or `vectors`".into()).into(),
            )
        }
    };
    let params = req.params.unwrap_or_default();
    check_params(&params)?;
    let filter = req
        .filter
        .as_ref()
        .map(Filter::parse)
        .transpose()
        .map_err(DbError::from)?;
    let q = Query {
        vectors: c.prepare_vectors(vectors)?,
        k: req.k as usize,
        filter,
        include: req.include,
        params,
    };
    let mut results = c.query(q).await?;
    if batch {
        Ok(Json(BatchQueryResponse { results }).into_response())
    } else {
        let results = results.pop().unwrap_or_default();
        Ok(Json(QueryResponse { results }).into_response())
    }
}

fn check_params(p: &SearchParams) -> Result<(), DbError> {
    if p.ef_search.is_some_and(|e| !(1..=32768).contains(&e)) {
        return Err(DbError::InvalidRequest(
            "params.ef_search must be in 1..=32768".into(),
        ));
    }
    if p.nprobe.is_some_and(|n| !(1..=65536).contains(&n)) {
        return Err(DbError::InvalidRequest(
            "params.nprobe must be in 1..=65536".into(),
        ));
    }
    Ok(())
}
