//! The side API (axum): OpenAI-compatible endpoints, speech over HTTP, the
//! audio profile, editor endpoints and metrics. Handlers are thin: they check
//! the request, hand the work to an engine off the async threads, and shape
//! the answer; errors are OpenAI error objects ([`error::ApiError`]).

mod audio;
mod chat;
mod editors;
mod embeddings;
pub mod error;
mod guard;
mod meta;
mod models;
mod profile;
pub mod state;
mod track;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};

pub use state::{ApiState, SharedState};

/// Every route, as `(method, path)`: the router and `openapi.json` must agree.
#[cfg(test)]
const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/chat/completions"),
    ("post", "/v1/embeddings"),
    ("get", "/v1/models"),
    ("post", "/v1/audio/transcriptions"),
    ("post", "/v1/audio/speech"),
    ("post", "/asr/transcribe"),
    ("get", "/audio/profile"),
    ("post", "/audio/profile"),
    ("post", "/obsidian/canvas/suggest"),
    ("post", "/code/pr/draft"),
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
];

pub fn router(state: SharedState) -> Router {
    let body_limit = state.limits().max_body_bytes;
    Router::new()
        .route("/v1/chat/completions", post(chat::completions))
        .route("/v1/embeddings", post(embeddings::create))
        .route("/v1/models", get(models::list))
        .route("/v1/audio/transcriptions", post(audio::transcriptions))
        .route("/v1/audio/speech", post(audio::speech))
        .route("/asr/transcribe", post(audio::asr_transcribe))
        .route("/audio/profile", get(profile::get).post(profile::set))
        .route("/obsidian/canvas/suggest", post(editors::canvas_suggest))
        .route("/code/pr/draft", post(editors::pr_draft))
        .route("/healthz", get(meta::healthz))
        .route("/metrics", get(meta::metrics))
        .route("/openapi.json", get(meta::openapi))
        .route_layer(middleware::from_fn_with_state(state.clone(), track::track))
        .fallback(|| async {
            error::ApiError::not_found("unknown_route", "no such route; GET /openapi.json lists them")
        })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), guard::limit_body))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::require_token,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Streamed tokens are small writes: without TCP_NODELAY, Nagle's algorithm
/// holds each back until the previous one is acknowledged.
pub fn no_delay(stream: &mut tokio::net::TcpStream) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_describes_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(meta::OPENAPI).expect("openapi.json is JSON");
        let mut documented: Vec<(String, String)> = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                documented.push((method.clone(), path.clone()));
            }
        }
        let mut routes: Vec<(String, String)> = ROUTES
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        documented.sort();
        routes.sort();
        assert_eq!(documented, routes);
    }
}
