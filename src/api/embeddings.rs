//! `POST /v1/embeddings`: MiniLM on candle (384 dims, mean-pooled, L2-normalised).

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use base64::Engine as _;
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult};
use super::schema::{
    EmbeddingData, EmbeddingList, EmbeddingUsage, EmbeddingVector, ErrorBody, RequestErrors,
};
use super::state::SharedState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct EmbeddingsRequest {
    /// The loaded embedding model's id, or `hauski`.
    model: String,
    input: Input,
    /// `float` (default) or `base64`.
    #[serde(default)]
    encoding_format: Option<String>,
    /// Must be the model's own size (384 for MiniLM), if given.
    dimensions: Option<usize>,
}

/// One text or several.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
enum Input {
    One(String),
    Many(Vec<String>),
}

/// Sentence embeddings (OpenAI-compatible): MiniLM, 384 dimensions, L2-normalised.
#[utoipa::path(post, path = "/v1/embeddings", tag = "openai", request_body = EmbeddingsRequest, responses(
    (status = 200, description = "One vector per input", body = EmbeddingList),
    RequestErrors,
    (status = 404, description = "The model named is not the one loaded", body = ErrorBody),
    (status = 503, description = "No embedding model is loaded", body = ErrorBody),
))]
pub async fn create(
    State(state): State<SharedState>,
    body: Result<Json<EmbeddingsRequest>, JsonRejection>,
) -> ApiResult<Json<EmbeddingList>> {
    let Json(request) = body?;
    let embedder = state.engines.embedder.clone().ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "no embedding model is loaded; run `hauski models pull minilm-l6-v2` and restart `hauski serve`",
        )
    })?;
    let model = state
        .engines
        .loaded
        .iter()
        .find(|(_, stage)| *stage == "embed")
        .map(|(id, _)| id.clone())
        .unwrap_or_default();
    if request.model != model && request.model != "hauski" {
        return Err(ApiError::not_found(
            "model_not_found",
            format!(
                "the embedding model {:?} is not loaded; this server embeds with {model:?}",
                request.model
            ),
        ));
    }
    let inputs = match request.input {
        Input::One(s) => vec![s],
        Input::Many(v) => v,
    };
    check_inputs(&inputs, state.limits().max_embedding_inputs)?;
    if let Some(d) = request.dimensions
        && d != embedder.dimensions()
    {
        return Err(ApiError::invalid(
            "dimensions",
            format!("{model} makes {}-dimensional vectors only", embedder.dimensions()),
        ));
    }
    let base64 = match request.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "encoding_format",
                format!("encoding_format {other:?} is not float or base64"),
            ));
        }
    };
    let (vectors, tokens) = embed_texts(embedder, inputs).await?;
    let data = vectors
        .into_iter()
        .enumerate()
        .map(|(index, v)| {
            let embedding = if base64 {
                // OpenAI's base64 format: little-endian f32s.
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                EmbeddingVector::Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                EmbeddingVector::Float(v)
            };
            EmbeddingData {
                object: "embedding".into(),
                index,
                embedding,
            }
        })
        .collect();
    Ok(Json(EmbeddingList {
        object: "list".into(),
        data,
        model,
        usage: EmbeddingUsage {
            prompt_tokens: tokens,
            total_tokens: tokens,
        },
    }))
}

/// What every embedding route holds its inputs to: 1 to
/// `api.max_embedding_inputs` strings, none empty (OpenAI's and Ollama's).
pub(super) fn check_inputs(inputs: &[String], max: usize) -> ApiResult<()> {
    if inputs.is_empty() || inputs.len() > max {
        return Err(ApiError::invalid(
            "input",
            format!("input must hold 1 to {max} strings (api.max_embedding_inputs in policies/limits.yaml)"),
        ));
    }
    if let Some(i) = inputs.iter().position(|s| s.is_empty()) {
        return Err(ApiError::invalid("input", format!("input[{i}] is empty")));
    }
    Ok(())
}

/// The vectors of `inputs`, computed off the async threads, and their word
/// count (the usage figure).
pub(super) async fn embed_texts(
    embedder: std::sync::Arc<hauski_brain::Embedder>,
    inputs: Vec<String>,
) -> ApiResult<(Vec<Vec<f32>>, usize)> {
    tokio::task::spawn_blocking(move || {
        let texts: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let tokens: usize = texts.iter().map(|t| t.split_whitespace().count()).sum();
        embedder.embed(&texts).map(|v| (v, tokens))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}
