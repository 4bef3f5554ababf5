//! The API's response bodies as types. Handlers build these, and
//! `/openapi.json` is generated from the same types (utoipa), so what a route
//! answers and what the document says cannot drift apart. Request bodies are
//! typed beside their handlers.

use serde::Serialize;
use utoipa::ToSchema;

/// An OpenAI error object: SDKs raise their usual exceptions from it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// What is wrong and how to fix it.
    pub message: String,
    /// `invalid_request_error`, `authentication_error`, `rate_limit_error`,
    /// `timeout_error` or `server_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The request field at fault.
    pub param: Option<String>,
    pub code: Option<String>,
}

/// `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthReport {
    /// `ok`, or `degraded` (with status 503) while a part is down.
    pub status: String,
    /// `engines`, `voice_loop`, `wake`, `api` and `bus`.
    pub components: std::collections::BTreeMap<String, ComponentHealth>,
    pub models: Vec<LoadedModel>,
    /// The active audio profile.
    pub profile: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComponentHealth {
    /// `up`, `down`, or `off` (not used here: configured off, or no audio device).
    pub state: String,
    /// Why it is down or off.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoadedModel {
    /// Its id in models.yml.
    pub id: String,
    /// `asr`, `tts`, `llm` or `embed`.
    pub stage: String,
}

/// `GET /v1/models`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelList {
    /// Always `list`.
    pub object: String,
    pub data: Vec<ModelCard>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelCard {
    pub id: String,
    /// Always `model`.
    pub object: String,
    pub created: u64,
    pub owned_by: String,
    pub hauski: ModelState,
}

/// HausKI's extension: what the model is and whether it is loaded.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelState {
    /// The kind in models.yml (`asr`, `tts`, `llm`, `embed`, ...).
    pub kind: String,
    pub loaded: bool,
}

/// `GET`/`POST /audio/profile`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileState {
    /// The active profile.
    pub profile: String,
    /// Its sink, voice, volume, pace and synonyms, as in profiles.yaml.
    #[schema(value_type = Object)]
    pub settings: Option<crate::config::Profile>,
    /// Every profile's name.
    pub known: Vec<String>,
}

/// `POST /v1/audio/transcriptions`: `json` gives the text alone,
/// `verbose_json` segments and duration too (`text` answers text/plain).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Transcription {
    Verbose(VerboseTranscription),
    Plain(PlainTranscription),
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlainTranscription {
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerboseTranscription {
    /// Always `transcribe`.
    pub task: String,
    pub language: String,
    /// Seconds of audio.
    pub duration: f64,
    pub text: String,
    pub segments: Vec<VerboseSegment>,
}

/// OpenAI's segment shape; the scores Whisper does not give here are 0.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerboseSegment {
    pub id: usize,
    pub seek: u32,
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub tokens: Vec<u32>,
    pub temperature: f32,
    pub avg_logprob: f32,
    pub compression_ratio: f32,
    pub no_speech_prob: f32,
}

/// `POST /asr/transcribe`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimedTranscript {
    pub text: String,
    pub segments: Vec<TimedText>,
    /// Seconds of audio.
    pub duration: f64,
}

/// A stretch of the transcript with its time in seconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimedText {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

/// `POST /v1/embeddings`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmbeddingList {
    /// Always `list`.
    pub object: String,
    pub data: Vec<EmbeddingData>,
    pub model: String,
    pub usage: EmbeddingUsage,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmbeddingData {
    /// Always `embedding`.
    pub object: String,
    pub index: usize,
    pub embedding: EmbeddingVector,
}

/// Floats, or with `encoding_format: base64` their little-endian f32 bytes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum EmbeddingVector {
    Float(Vec<f32>),
    Base64(String),
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmbeddingUsage {
    pub prompt_tokens: usize,
    pub total_tokens: usize,
}

/// `POST /v1/chat/completions` without `stream`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatCompletion {
    pub id: String,
    /// Always `chat.completion`.
    pub object: String,
    pub created: u64,
    pub model: String,
    pub choices: Vec<ChatChoice>,
    pub usage: Usage,
    /// HausKI's extension, present when memories or notes went into the prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hauski: Option<PromptSources>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatChoice {
    pub index: u32,
    pub message: AssistantMessage,
    /// Always null: HausKI does not report log-probabilities.
    #[schema(value_type = Option<Object>)]
    pub logprobs: Option<()>,
    /// `stop`, `length` or `tool_calls`.
    pub finish_reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssistantMessage {
    /// Always `assistant`.
    pub role: String,
    /// The words; null when the answer is only a tool call.
    pub content: Option<String>,
    /// The call the model made, when `tools` were offered and it made one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ResponseToolCall>>,
}

/// A tool call in OpenAI's shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResponseToolCall {
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: String,
    pub function: FunctionCall,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FunctionCall {
    pub name: String,
    /// The arguments as a JSON string; they validate against the tool's `parameters`.
    pub arguments: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Usage {
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    pub total_tokens: usize,
}

/// What went into the prompt, so the owner can see why HausKI said what it said.
#[derive(Debug, Serialize, ToSchema)]
pub struct PromptSources {
    /// The notes' "path › heading".
    pub sources: Vec<String>,
    /// `{id, text, score, pinned}` of each memory used.
    #[schema(value_type = Vec<Object>)]
    pub memories: Vec<crate::assistant::context::UsedMemory>,
    /// `{source, score}` of each note used.
    #[schema(value_type = Vec<Object>)]
    pub notes: Vec<crate::notes_context::UsedNote>,
}

/// `POST /obsidian/canvas/suggest`: new nodes and edges in the canvas's
/// own JSON shape, to add to it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CanvasSuggestion {
    pub nodes: Vec<CanvasNode>,
    pub edges: Vec<CanvasEdge>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CanvasNode {
    pub id: String,
    /// Always `text`.
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanvasEdge {
    pub id: String,
    pub from_node: String,
    pub from_side: String,
    pub to_node: String,
    pub to_side: String,
}

/// `POST /code/pr/draft`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrDraft {
    /// A short title in the imperative mood.
    pub title: String,
    /// What changed and why, then the files changed with their line counts.
    pub body: String,
}

/// What any request can be refused with, each an OpenAI error object.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code, reason = "describes responses for the OpenAPI document")]
pub enum RequestErrors {
    /// The request is wrong; the message names the field and the fix.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// A token is set and the request does not carry it.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The body is over `api.max_body_bytes` (policies/limits.yaml).
    #[response(status = 413)]
    TooLarge(ErrorBody),
}

/// What a request without a body can be refused with.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code, reason = "describes responses for the OpenAPI document")]
pub enum TokenErrors {
    /// A token is set and the request does not carry it.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
}

/// What a request that waits for the LLM can also get.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code, reason = "describes responses for the OpenAPI document")]
pub enum GenerationErrors {
    /// Every generation slot and the queue are full; try again.
    #[response(status = 429)]
    Busy(ErrorBody),
    /// It took longer than `api.request_timeout_ms` and was cancelled.
    #[response(status = 504)]
    Timeout(ErrorBody),
}
