//! `GET /v1/models`: the models of models.yml that are loaded or loadable.

use axum::Json;
use axum::extract::State;

use super::chat::unix_now;
use super::schema::{ModelCard, ModelList, ModelState, TokenErrors};
use super::state::SharedState;
use crate::config::ModelKind;

/// The models of models.yml that are loaded or present (OpenAI's list).
#[utoipa::path(get, path = "/v1/models", tag = "openai", responses(
    (status = 200, description = "The models", body = ModelList),
    TokenErrors,
))]
pub async fn list(State(state): State<SharedState>) -> Json<ModelList> {
    let created = unix_now();
    let data = state
        .config
        .models
        .models
        .iter()
        // Config files (a voice's JSON, a tokenizer) are parts of models, not models.
        .filter(|entry| !matches!(entry.kind, ModelKind::TtsConfig | ModelKind::EmbedConfig))
        .filter_map(|entry| {
            let loaded = state.engines.loaded.iter().any(|(id, _)| *id == entry.id);
            let present = state.model_roots.locate(&entry.path).is_file();
            (loaded || present).then(|| ModelCard {
                id: entry.id.clone(),
                object: "model".into(),
                created,
                owned_by: "hauski".into(),
                hauski: ModelState {
                    kind: serde_json::to_value(entry.kind)
                        .ok()
                        .and_then(|k| k.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    loaded,
                },
            })
        })
        .collect();
    Json(ModelList {
        object: "list".into(),
        data,
    })
}
