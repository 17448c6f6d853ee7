//! The one mapping from errors to HTTP: status, stable code, message. Service-side errors are
//! logged here and answered with a generic message.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use akidb_client::{ErrorBody, ErrorDetail};

use crate::error::DbError;

/// An HTTP error answer: `{ "error": { "code", "message" } }`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        use DbError::*;
        use StatusCode as S;
        let (status, code) = match &e {
            CollectionNotFound(_) => (S::NOT_FOUND, "collection_not_found"),
            RecordNotFound { .. } => (S::NOT_FOUND, "record_not_found"),
            CollectionExists(_) => (S::CONFLICT, "collection_exists"),
            InvalidCollection(_) => (S::BAD_REQUEST, "invalid_collection"),
            InvalidIndex(_) => (S::BAD_REQUEST, "invalid_index"),
            ImmutableField(_) => (S::BAD_REQUEST, "immutable_field"),
            DimensionMismatch { .. } => (S::BAD_REQUEST, "dimension_mismatch"),
            InvalidVector(_) => (S::BAD_REQUEST, "invalid_vector"),
            InvalidFilter(_) => (S::BAD_REQUEST, "invalid_filter"),
            DuplicateId(_) => (S::BAD_REQUEST, "duplicate_id"),
            InvalidId(_) => (S::BAD_REQUEST, "invalid_id"),
            InvalidRequest(_) => (S::BAD_REQUEST, "invalid_request"),
            LimitExceeded(_) => (S::BAD_REQUEST, "limit_exceeded"),
            Unsupported(_) => (S::BAD_REQUEST, "unsupported"),
            NotReady => (S::SERVICE_UNAVAILABLE, "not_ready"),
            Manifest(crate::manifest::ManifestError::Conflict { .. }) => {
                (S::CONFLICT, "manifest_conflict")
            }
            Manifest(_) | Wal(_) | Index(_) | SegmentFile(_) | Store(_) | OpDecode(_) | Io(_)
            | Internal(_) => (S::INTERNAL_SERVER_ERROR, "internal"),
        };
        if status.is_server_error() && !matches!(e, NotReady) {
            tracing::error!(error = %e, code, "request failed");
            let message = match &e {
                Manifest(_) | NotReady => e.to_string(),
                _ => "internal error; see the server log".to_string(),
            };
            return ApiError::new(status, code, message);
        }
        ApiError::new(status, code, e.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let code = match &r {
            JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
            JsonRejection::JsonSyntaxError(_) => "invalid_json",
            JsonRejection::JsonDataError(_) => "invalid_request",
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            _ => "invalid_request",
        };
        ApiError::new(status, code, r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_path", r.body_text())
    }
}

/// A generic code for a status produced outside the handlers (layers, fallbacks).
pub fn code_for_status(s: StatusCode) -> &'static str {
    match s {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        // Handlers answer 503s with a JSON body; a bare one comes from the timeout layer.
        StatusCode::SERVICE_UNAVAILABLE => "timeout",
        s if s.is_client_error() => "bad_request",
        _ => "internal",
    }
}
