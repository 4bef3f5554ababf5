//! `/healthz`, `/metrics` and `/openapi.json`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use super::schema::{ComponentHealth, HealthReport, LoadedModel, TokenErrors};
use super::state::SharedState;

/// Whether every part of the daemon works, what it has loaded and the
/// active profile. Needs no token, for service managers and load balancers.
#[utoipa::path(get, path = "/healthz", tag = "meta", security(()), responses(
    (status = 200, description = "Every part is up (or off)", body = HealthReport),
    (status = 503, description = "A part is down; `components` says which and why", body = HealthReport),
))]
pub async fn healthz(State(state): State<SharedState>) -> (StatusCode, Json<HealthReport>) {
    let models = state
        .engines
        .loaded
        .iter()
        .map(|(id, stage)| LoadedModel {
            id: id.clone(),
            stage: (*stage).to_string(),
        })
        .collect();
    let healthy = state.health.healthy();
    let components = state
        .health
        .snapshot()
        .into_iter()
        .map(|(name, c)| {
            let health = ComponentHealth {
                state: format!("{:?}", c.state).to_lowercase(),
                reason: c.reason,
            };
            (name, health)
        })
        .collect();
    let body = HealthReport {
        status: if healthy { "ok" } else { "degraded" }.into(),
        components,
        models,
        profile: state.profile.name(),
    };
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

/// Prometheus metrics: requests and latency per route, tokens, turns.
#[utoipa::path(get, path = "/metrics", tag = "meta", responses(
    (status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String),
    TokenErrors,
))]
pub async fn metrics(State(state): State<SharedState>) -> impl IntoResponse {
    state.metrics.refresh_process();
    if let Some(pool) = &state.engines.llm {
        state.metrics.llm_waiting.set(pool.waiting() as i64);
        state.metrics.llm_busy.set(pool.busy() as i64);
    }
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
