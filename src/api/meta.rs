//! `/healthz`, `/metrics` and `/openapi.json`.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::state::SharedState;

/// The OpenAPI document, kept by hand beside the routes (see ARCHITECTURE.md
/// for why); a test checks that it and the router name the same routes.
pub const OPENAPI: &str = include_str!("openapi.json");

pub async fn healthz(State(state): State<SharedState>) -> Json<Value> {
    let loaded: Vec<Value> = state
        .engines
        .loaded
        .iter()
        .map(|(id, stage)| json!({"id": id, "stage": stage}))
        .collect();
    Json(json!({"status": "ok", "models": loaded, "profile": state.profile.name()}))
}

pub async fn metrics(State(state): State<SharedState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}

pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}
