//! `POST /notify`: any program's message read aloud the way messengers'
//! are ("Message from Home Assistant: the washing machine is done."): after
//! whatever HausKI is saying or being asked, several at once said together,
//! and published on the bus (`hauski.notification`) for other listeners.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult};
use super::schema::{ErrorBody, RequestErrors};
use super::state::SharedState;
use crate::assistant::bus::{Event, Urgency};
use crate::assistant::notices::Notice;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyRequest {
    /// What to say.
    text: String,
    /// Who sends it, said before the text ("Home Assistant").
    source: String,
    /// `low`, `normal` (the default) or `high`: urgent messages are said first.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    urgency: Urgency,
    /// The profile (room) to say it in; the one answers play in when absent.
    #[serde(default)]
    profile: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotifyQueued {
    /// Always `true`: the message waits its turn to be said.
    queued: bool,
}

/// Reads a program's message aloud.
#[utoipa::path(post, path = "/notify", tag = "hauski", request_body = NotifyRequest,
    responses(
        (status = 202, description = "Queued to be read aloud", body = NotifyQueued),
        RequestErrors,
        (status = 404, description = "No such profile (the message lists the known ones)", body = ErrorBody),
    ))]
pub async fn notify(
    State(state): State<SharedState>,
    body: Result<Json<NotifyRequest>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<NotifyQueued>)> {
    let Json(request) = body?;
    let profile = match request.profile.as_deref() {
        None => None,
        Some(asked) => Some(
            state
                .profile
                .resolve_known(asked)
                .map_err(super::profile::profile_error)?,
        ),
    };
    let notice = Notice {
        profile,
        ..Notice::from_program(&request.source, &request.text, request.urgency)
    };
    if let Some(problem) = notice.problem() {
        let param = if problem.contains("text") {
            "text"
        } else {
            "source"
        };
        return Err(ApiError::invalid(param, problem));
    }
    tracing::info!(source = %notice.sender, "a program's message to read aloud");
    state.bus.publish(Event::Notification(notice));
    Ok((StatusCode::ACCEPTED, Json(NotifyQueued { queued: true })))
}
