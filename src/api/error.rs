//! Errors as OpenAI error objects, so SDKs raise their usual exceptions:
//! `{"error": {"message", "type", "param", "code"}}` with a fitting status.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::schema::{ErrorBody, ErrorDetail};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub kind: &'static str,
    pub param: Option<&'static str>,
    pub code: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            kind,
            param: None,
            code: None,
        }
    }

    /// 400: the request is wrong; `param` names the field.
    pub fn invalid(param: &'static str, message: impl Into<String>) -> Self {
        Self {
            param: Some(param),
            ..Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code: Some(code),
            ..Self::new(StatusCode::NOT_FOUND, "invalid_request_error", message)
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            code: Some("invalid_api_key"),
            ..Self::new(StatusCode::UNAUTHORIZED, "authentication_error", message)
        }
    }

    pub fn busy(message: impl Into<String>) -> Self {
        Self {
            code: Some("rate_limit_exceeded"),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", message)
        }
    }

    pub fn timeout(limit: std::time::Duration) -> Self {
        Self {
            code: Some("timeout"),
            ..Self::new(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout_error",
                format!(
                    "the request took longer than {} ms (api.request_timeout_ms in policies/limits.yaml) and was cancelled",
                    limit.as_millis()
                ),
            )
        }
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            format!(
                "the request body is over {limit} bytes (api.max_body_bytes in policies/limits.yaml); send less"
            ),
        )
    }

    /// 500: our fault, logged with the reason.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        tracing::error!(%message, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            message.to_string(),
        )
    }

    pub fn body(&self) -> serde_json::Value {
        let body = ErrorBody {
            error: ErrorDetail {
                message: self.message.clone(),
                kind: self.kind.to_string(),
                param: self.param.map(str::to_string),
                code: self.code.map(str::to_string),
            },
        };
        serde_json::to_value(body).unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_client_error() {
            tracing::info!(status = %self.status, message = %self.message, "request refused");
        }
        (self.status, Json(self.body())).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::BytesRejection(ref inner) if inner.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                    ..Self::bad_request(rejection.body_text())
                }
            }
            JsonRejection::MissingJsonContentType(_) => {
                Self::bad_request("send the body as JSON with `Content-Type: application/json`")
            }
            other => Self::bad_request(other.body_text()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
