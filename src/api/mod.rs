//! The side API (axum): OpenAI-compatible endpoints, speech over HTTP, the
//! audio profile, editor endpoints and metrics. Handlers are thin: they check
//! the request, hand the work to an engine off the async threads, and shape
//! the answer; errors are OpenAI error objects ([`error::ApiError`]).

mod audio;
mod chat;
mod editors;
mod embeddings;
pub mod error;
pub mod events;
mod guard;
mod lists;
mod meta;
mod models;
mod notify;
mod ollama;
mod profile;
pub mod schema;
pub mod state;
mod track;

use std::sync::OnceLock;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use utoipa::OpenApi as _;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use state::{ApiState, SharedState};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "HausKI side API",
        description = "OpenAI-compatible endpoints and HausKI's own. Listens on 127.0.0.1:8088 by default; \
                       with a token configured every route but /healthz needs `Authorization: Bearer <token>`."
    ),
    tags(
        (name = "openai", description = "OpenAI-compatible: the official SDKs work unchanged"),
        (name = "hauski", description = "Speech and the audio profile"),
        (name = "editors", description = "For the VS Code and Obsidian plugins"),
        (name = "meta", description = "Health, metrics and this document"),
        (name = "ollama", description = "Ollama-compatible: its clients (Home Assistant, Open WebUI, the ollama packages) work unchanged"),
    ),
    components(schemas(schema::ErrorBody)),
    modifiers(&BearerToken)
)]
struct ApiDoc;

/// The bearer token, optional: a daemon on loopback without a token takes
/// requests without one.
struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::default(),
        ]);
    }
}

/// Every route, each registered with its OpenAPI description: the router
/// and `/openapi.json` come from this one list, so neither can have a route
/// the other lacks.
fn routes() -> OpenApiRouter<SharedState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(chat::completions))
        .routes(routes!(embeddings::create))
        .routes(routes!(models::list))
        .routes(routes!(audio::transcriptions))
        .routes(routes!(audio::speech))
        .routes(routes!(audio::asr_transcribe))
        .routes(routes!(profile::get, profile::set))
        .routes(routes!(lists::read, lists::add))
        .routes(routes!(lists::remove))
        .routes(routes!(notify::notify))
        .routes(routes!(editors::canvas_suggest))
        .routes(routes!(editors::pr_draft))
        .routes(routes!(editors::hints::hints))
        .routes(routes!(editors::commentary::commentary))
        .routes(routes!(meta::healthz))
        .routes(routes!(events::events))
        .routes(routes!(meta::metrics))
        .routes(routes!(meta::openapi))
        .routes(routes!(ollama::version))
        .routes(routes!(ollama::tags))
        .routes(routes!(ollama::show))
        .routes(routes!(ollama::chat))
        .routes(routes!(ollama::generate))
        .routes(routes!(ollama::embed))
}

/// The OpenAPI document as JSON, written once: by [`router`] from the same
/// routes it serves, or on first use.
static DOCUMENT: OnceLock<String> = OnceLock::new();

/// The OpenAPI document, made once from [`routes`].
pub fn openapi_json() -> &'static str {
    DOCUMENT.get_or_init(|| document_json(&routes().split_for_parts().1))
}

fn document_json(document: &utoipa::openapi::OpenApi) -> String {
    document.to_pretty_json().unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot write the OpenAPI document");
        "{}".into()
    })
}

pub fn router(state: SharedState) -> Router {
    let body_limit = state.limits().max_body_bytes;
    let (routes, document) = routes().split_for_parts();
    // Already set when a second router is built (tests); the same document either way.
    let _ = DOCUMENT.set(document_json(&document));
    routes
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

    fn document() -> serde_json::Value {
        serde_json::from_str(openapi_json()).expect("the document is JSON")
    }

    /// Every operation says what it takes and what it answers, success and
    /// errors alike, with a schema a client generator can use.
    #[test]
    fn every_route_has_its_schemas() {
        let doc = document();
        let paths = doc["paths"].as_object().expect("paths");
        assert!(paths.len() >= 12, "{paths:?}");
        for (path, item) in paths {
            for (method, op) in item.as_object().expect("path item") {
                let what = format!("{method} {path}");
                // Its success: 200, or 202 for what is queued (`POST /notify`).
                let success = ["200", "202"]
                    .iter()
                    .find_map(|code| op["responses"].get(*code))
                    .unwrap_or(&serde_json::Value::Null);
                let has_schema = success["content"]
                    .as_object()
                    .is_some_and(|c| !c.is_empty() && c.values().all(|m| m.get("schema").is_some()));
                assert!(has_schema, "{what}: no success schema: {op}");
                if method == "post" {
                    assert!(
                        op["requestBody"]["content"].is_object(),
                        "{what}: no request body"
                    );
                }
                let errors: Vec<&String> = op["responses"]
                    .as_object()
                    .expect("responses")
                    .keys()
                    .filter(|s| s.starts_with('4'))
                    .collect();
                // Only /healthz takes no token and no body: it cannot be refused.
                let open = op["security"] == serde_json::json!([{}]);
                assert!(
                    open || errors.contains(&&"401".to_string()),
                    "{what}: no 401: {errors:?}"
                );
                if method == "post" {
                    for status in ["400", "413"] {
                        assert!(errors.contains(&&status.to_string()), "{what}: no {status}");
                    }
                }
                assert!(
                    op["summary"].is_string() || op["description"].is_string(),
                    "{what}: undocumented"
                );
            }
        }
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        for name in [
            "ChatRequest",
            "ChatCompletion",
            "ErrorBody",
            "EmbeddingList",
            "ProfileState",
        ] {
            assert!(schemas.contains_key(name), "no {name} schema");
        }
        assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    }

    /// Routes reach the router only through `routes!` in [`routes`]: a plain
    /// axum route (`Router::route`) anywhere in the API would serve a path the document
    /// does not describe.
    #[test]
    fn no_route_bypasses_the_document() {
        // Every source file of the API, found on disk rather than listed:
        // a new module cannot be left out.
        fn rust_files(dir: &std::path::Path, found: &mut Vec<(std::path::PathBuf, String)>) {
            for entry in std::fs::read_dir(dir).expect("src/api is readable").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    rust_files(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).expect("source is UTF-8");
                    found.push((path, text));
                }
            }
        }
        let mut sources = Vec::new();
        rust_files(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api"),
            &mut sources,
        );
        assert!(sources.len() >= 15, "found {} API sources", sources.len());
        let needle = [".rou", "te("].concat();
        for (path, source) in sources {
            assert!(
                !source.contains(&needle),
                "{}: a route registered outside routes!()",
                path.display()
            );
        }
    }
}
