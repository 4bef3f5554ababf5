//! `/healthz`, `/metrics` and `/openapi.json`.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::schema::{Health, LoadedModel, TokenErrors};
use super::state::SharedState;

/// Whether the daemon answers, what it has loaded and the active profile.
/// Needs no token, for service managers and load balancers.
#[utoipa::path(get, path = "/healthz", tag = "meta", security(()), responses(
    (status = 200, description = "The daemon answers", body = Health),
))]
pub async fn healthz(State(state): State<SharedState>) -> Json<Health> {
    let models = state
        .engines
        .loaded
        .iter()
        .map(|(id, stage)| LoadedModel {
            id: id.clone(),
            stage: (*stage).to_string(),
        })
        .collect();
    Json(Health {
        status: "ok".into(),
        models,
        profile: state.profile.name(),
    })
}

/// Prometheus metrics: requests and latency per route, tokens, turns.
#[utoipa::path(get, path = "/metrics", tag = "meta", responses(
    (status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String),
    TokenErrors,
))]
pub async fn metrics(State(state): State<SharedState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}

/// This document, generated from the handlers and their types.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses(
    (status = 200, description = "The OpenAPI document", body = Object),
    TokenErrors,
))]
pub async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        super::openapi_json(),
    )
}
