//! `GET/POST /audio/profile`: which profile (sink, voice, volume) answers play through.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult};
use super::schema::{ErrorBody, ProfileState, RequestErrors, TokenErrors};
use super::state::SharedState;
use crate::profile_state::ProfileError;

fn describe(state: &SharedState) -> ProfileState {
    let name = state.profile.name();
    let profiles = state.profile.profiles();
    ProfileState {
        settings: profiles.profiles.get(&name).cloned(),
        profile: name,
        known: profiles.profiles.keys().cloned().collect(),
    }
}

/// The active profile and the ones there are.
#[utoipa::path(get, path = "/audio/profile", tag = "hauski", responses(
    (status = 200, description = "The active profile", body = ProfileState),
    TokenErrors,
))]
pub async fn get(State(state): State<SharedState>) -> Json<ProfileState> {
    Json(describe(&state))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetProfile {
    /// A profile's name or one of its synonyms ("kitchen").
    profile: String,
}

/// Switches the profile answers play through (saved across restarts).
#[utoipa::path(post, path = "/audio/profile", tag = "hauski", request_body = SetProfile, responses(
    (status = 200, description = "The profile now active", body = ProfileState),
    RequestErrors,
    (status = 404, description = "No such profile (the message lists the known ones)", body = ErrorBody),
))]
pub async fn set(
    State(state): State<SharedState>,
    body: Result<Json<SetProfile>, JsonRejection>,
) -> ApiResult<Json<ProfileState>> {
    let Json(request) = body?;
    match state.set_profile(&request.profile) {
        Ok(_) => Ok(Json(describe(&state))),
        Err(e) => Err(profile_error(e)),
    }
}

/// An unknown profile is the request's fault (404, naming the known ones);
/// anything else is the daemon's.
pub(super) fn profile_error(e: ProfileError) -> ApiError {
    match e {
        ProfileError::Unknown { .. } => ApiError {
            param: Some("profile"),
            ..ApiError::not_found("profile_not_found", e.to_string())
        },
        other => ApiError::internal(other),
    }
}
