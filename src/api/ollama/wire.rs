//! Ollama's request and response bodies, as its clients (the `ollama`
//! packages, Home Assistant's Ollama integration, Open WebUI) send and
//! validate them. Durations are nanoseconds, times RFC 3339. Fields HausKI
//! has no use for (`keep_alive`: its models stay loaded; `truncate`) are
//! accepted and ignored, as unknown fields are.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An Ollama error: `{"error": "..."}`, which its clients raise as `ResponseError`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OllamaError {
    pub error: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OllamaVersion {
    pub version: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OllamaModelDetails {
    pub parent_model: String,
    pub format: String,
    pub family: String,
    pub families: Vec<String>,
    pub parameter_size: String,
    pub quantization_level: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OllamaTag {
    pub name: String,
    pub model: String,
    pub modified_at: String,
    pub size: u64,
    pub digest: String,
    pub details: OllamaModelDetails,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OllamaTags {
    pub models: Vec<OllamaTag>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OllamaShowRequest {
    /// A model name from `/api/tags` (`:latest` may be left off).
    #[serde(alias = "name")]
    pub model: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OllamaShow {
    pub modelfile: String,
    pub parameters: String,
    pub template: String,
    pub details: OllamaModelDetails,
    #[schema(value_type = Object)]
    pub model_info: serde_json::Value,
    /// `completion` (chat, generate) or `embedding`.
    pub capabilities: Vec<String>,
    pub modified_at: String,
}

/// Sampling and budget options; others Ollama knows (num_ctx, mirostat …)
/// are accepted and ignored.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct OllamaOptions {
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    pub seed: Option<i64>,
    /// Most tokens in the answer; -1 or absent: the server's default.
    pub num_predict: Option<i64>,
    pub stop: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OllamaMessage {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: String,
    #[serde(default)]
    pub content: String,
    /// An assistant message's earlier calls.
    #[serde(default)]
    pub tool_calls: Option<Vec<OllamaToolCall>>,
    /// A `tool` message: which tool's result it is.
    #[serde(default)]
    pub tool_name: Option<String>,
}

/// A function the model may call.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OllamaTool {
    /// Only `function`.
    #[serde(rename = "type", default = "function_kind")]
    pub kind: String,
    pub function: OllamaFunctionSpec,
}

fn function_kind() -> String {
    "function".into()
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OllamaFunctionSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A JSON schema for the arguments.
    #[schema(value_type = Object)]
    pub parameters: Option<serde_json::Value>,
}

/// A tool call: Ollama's arguments are an object, not a string.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OllamaToolCall {
    pub function: OllamaFunctionCall,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OllamaFunctionCall {
    pub name: String,
    #[schema(value_type = Object)]
    pub arguments: serde_json::Value,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OllamaChatRequest {
    pub model: String,
    #[serde(default)]
    pub messages: Vec<OllamaMessage>,
    /// NDJSON chunks as tokens arrive; Ollama's default is true.
    pub stream: Option<bool>,
    #[serde(default)]
    pub options: Option<OllamaOptions>,
    /// `"json"` (any JSON object) or a JSON schema the answer must validate
    /// against; held by grammar sampling, so it always parses.
    #[schema(value_type = Object)]
    pub format: Option<serde_json::Value>,
    /// Functions the model may call; a call comes back as `message.tool_calls`.
    pub tools: Option<Vec<OllamaTool>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OllamaGenerateRequest {
    pub model: String,
    #[serde(default)]
    pub prompt: String,
    pub system: Option<String>,
    pub stream: Option<bool>,
    #[serde(default)]
    pub options: Option<OllamaOptions>,
    /// As `/api/chat`'s.
    #[schema(value_type = Object)]
    pub format: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OllamaAssistantMessage {
    pub role: String,
    pub content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<OllamaToolCall>>,
}

/// One NDJSON line of `/api/chat` (or the whole answer without streaming):
/// the last has `done: true` and the figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct OllamaChatChunk {
    pub model: String,
    pub created_at: String,
    pub message: OllamaAssistantMessage,
    pub done: bool,
    #[serde(flatten)]
    pub figures: Option<OllamaFigures>,
}

/// One NDJSON line of `/api/generate`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OllamaGenerateChunk {
    pub model: String,
    pub created_at: String,
    pub response: String,
    pub done: bool,
    #[serde(flatten)]
    pub figures: Option<OllamaFigures>,
}

/// How a generation went, on the last chunk.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OllamaFigures {
    /// `stop` or `length`.
    pub done_reason: String,
    pub total_duration: u64,
    pub load_duration: u64,
    pub prompt_eval_count: usize,
    pub prompt_eval_duration: u64,
    pub eval_count: usize,
    pub eval_duration: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum OllamaEmbedInput {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OllamaEmbedRequest {
    pub model: String,
    pub input: OllamaEmbedInput,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OllamaEmbeddings {
    pub model: String,
    pub embeddings: Vec<Vec<f32>>,
    pub total_duration: u64,
    pub load_duration: u64,
    pub prompt_eval_count: usize,
}

/// What an Ollama route can be refused with.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code, reason = "describes responses for the OpenAPI document")]
pub enum OllamaErrors {
    /// The request is wrong; the message names the field and the fix.
    #[response(status = 400)]
    BadRequest(OllamaError),
    /// A token is set and the request does not carry it.
    #[response(status = 401)]
    Unauthorized(crate::api::schema::ErrorBody),
    /// No such model here.
    #[response(status = 404)]
    NotFound(OllamaError),
    /// The body is over `api.max_body_bytes` (policies/limits.yaml).
    #[response(status = 413)]
    TooLarge(crate::api::schema::ErrorBody),
    /// Every generation slot and the queue are full; try again.
    #[response(status = 429)]
    Busy(OllamaError),
    /// It took longer than `api.request_timeout_ms` and was cancelled.
    #[response(status = 504)]
    Timeout(OllamaError),
}
