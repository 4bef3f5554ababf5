//! `GET /events`: the core's bus as server-sent events, for `hauski top`
//! and anything else that wants to watch a running HausKI without a NATS
//! server. Each event is named by its subject; its data is the payload.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::schema::TokenErrors;
use super::state::SharedState;

/// What a watcher that fell behind is told: how many events it lost.
pub const LAGGED: &str = "hauski.lagged";

/// Every `hauski.*` event from now on, as it happens.
#[utoipa::path(get, path = "/events", tag = "meta", responses(
    (status = 200, description = "Server-sent events: `event:` the subject (ARCHITECTURE.md's bus table), \
        `data:` its JSON payload; `hauski.lagged` with `{\"lost\": N}` when the watcher fell behind",
        content_type = "text/event-stream", body = String),
    TokenErrors,
))]
pub async fn events(State(state): State<SharedState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let events = state.bus.subscribe();
    let stream = futures_util::stream::unfold(events, |mut events| async move {
        let event = match events.recv().await {
            Ok(event) => Event::default()
                .event(event.subject())
                .data(event.payload().to_string()),
            Err(RecvError::Lagged(lost)) => Event::default()
                .event(LAGGED)
                .data(serde_json::json!({ "lost": lost }).to_string()),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(event), events))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
