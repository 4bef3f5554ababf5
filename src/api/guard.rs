//! Requests refused before any work: wrong or missing bearer token (401),
//! a body over the size limit (413, judged from Content-Length so 50 MB are
//! never read).

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::state::SharedState;

/// Routes anyone on the network may ask: a load balancer's health probe.
const OPEN_ROUTES: &[&str] = &["/healthz"];

pub async fn require_token(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let Some(expected) = state.token.as_deref() else {
        return next.run(request).await;
    };
    if OPEN_ROUTES.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => next.run(request).await,
        other => {
            let path = request.uri().path().to_string();
            tracing::warn!(%path, presented = other.is_some(), "request refused: bad or missing bearer token");
            let assistant = state.assistant.clone();
            let detail = format!("{path}: {} token", if other.is_some() { "wrong" } else { "no" });
            // Off the async workers: each entry is synced to disk.
            drop(tokio::task::spawn_blocking(move || {
                assistant.audit("api", "auth refused", &detail)
            }));
            ApiError::unauthorized(if other.is_some() {
                "the bearer token is wrong"
            } else {
                "this server needs `Authorization: Bearer <token>`"
            })
            .into_response()
        }
    }
}

/// Compares without an early exit, so timing does not reveal the prefix matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn limit_body(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let limit = state.limits().max_body_bytes;
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return ApiError::too_large(limit).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }
}
