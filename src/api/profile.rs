//! `GET/POST /audio/profile`: which profile (sink, voice, volume) answers play through.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::state::SharedState;
use crate::profile_state::ProfileError;

fn describe(state: &SharedState) -> Value {
    let name = state.profile.name();
    let profiles = state.profile.profiles();
    json!({
        "profile": name,
        "settings": profiles.profiles.get(&name),
        "known": profiles.profiles.keys().collect::<Vec<_>>(),
    })
}

pub async fn get(State(state): State<SharedState>) -> Json<Value> {
    Json(describe(&state))
}

#[derive(Debug, Deserialize)]
pub struct SetProfile {
    profile: String,
}

pub async fn set(
    State(state): State<SharedState>,
    body: Result<Json<SetProfile>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Json(request) = body?;
    match state.set_profile(&request.profile) {
        Ok(_) => Ok(Json(describe(&state))),
        Err(e @ ProfileError::Unknown { .. }) => Err(ApiError {
            param: Some("profile"),
            ..ApiError::not_found("profile_not_found", e.to_string())
        }),
        Err(e) => Err(ApiError::internal(e)),
    }
}
