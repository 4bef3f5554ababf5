//! `GET /v1/models`: the models of models.yml that are loaded or loadable.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::chat::unix_now;
use super::state::SharedState;
use crate::config::ModelKind;

pub async fn list(State(state): State<SharedState>) -> Json<Value> {
    let created = unix_now();
    let data: Vec<Value> = state
        .config
        .models
        .models
        .iter()
        // Config files (a voice's JSON, a tokenizer) are parts of models, not models.
        .filter(|entry| !matches!(entry.kind, ModelKind::TtsConfig | ModelKind::EmbedConfig))
        .filter_map(|entry| {
            let loaded = state.engines.loaded.iter().any(|(id, _)| *id == entry.id);
            let present = state.model_roots.locate(&entry.path).is_file();
            (loaded || present).then(|| {
                json!({
                    "id": entry.id,
                    "object": "model",
                    "created": created,
                    "owned_by": "hauski",
                    "hauski": {"kind": entry.kind, "loaded": loaded},
                })
            })
        })
        .collect();
    Json(json!({"object": "list", "data": data}))
}
