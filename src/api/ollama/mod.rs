//! Ollama's API beside OpenAI's, for the clients that speak only Ollama
//! (Home Assistant's Ollama integration, Open WebUI, the `ollama` packages):
//! `/api/version`, `/api/tags`, `/api/show`, `/api/chat`, `/api/generate`
//! (NDJSON streaming, or one object with `stream: false`) and `/api/embed`.
//! The same engines, limits, system prompt and bus events as `/v1/*`;
//! errors in Ollama's shape, `{"error": "..."}`.

mod input;
mod wire;

use std::convert::Infallible;
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hauski_brain::{ChatMessage, ChatRole, FinishReason, GenerationParams, GenerationStats};
use serde_json::{Value, json};
use tokio::time::Instant;

pub use wire::*;

use super::chat::{collect, first_event};
use super::embeddings::{check_inputs, embed_texts};
use super::error::ApiError;
use super::schema::TokenErrors;
use super::state::SharedState;
use crate::assistant::bus::Event as BusEvent;
use crate::assistant::context::system_prompt;
use crate::assistant::generation::{Door, Requested, generation_params};
use crate::assistant::tools::{self, AnswerShape};
use crate::config::{ModelEntry, ModelKind};
use crate::llm_pool::{Generation, GenerationEvent, SubmitError};

/// The Ollama API version whose shapes these routes follow.
const API_VERSION: &str = "0.12.0";

/// An error as Ollama sends it.
#[derive(Debug)]
pub struct OllamaFail(StatusCode, String);

impl IntoResponse for OllamaFail {
    fn into_response(self) -> Response {
        (self.0, Json(OllamaError { error: self.1 })).into_response()
    }
}

impl From<ApiError> for OllamaFail {
    fn from(e: ApiError) -> Self {
        Self(e.status, e.message)
    }
}

impl From<JsonRejection> for OllamaFail {
    fn from(rejection: JsonRejection) -> Self {
        ApiError::from(rejection).into()
    }
}

fn bad(message: impl Into<String>) -> OllamaFail {
    OllamaFail(StatusCode::BAD_REQUEST, message.into())
}

type OllamaResult<T> = Result<T, OllamaFail>;

/// The server's Ollama API version.
#[utoipa::path(get, path = "/api/version", tag = "ollama", responses(
    (status = 200, description = "The Ollama API version followed", body = OllamaVersion),
    TokenErrors,
))]
pub async fn version() -> Json<OllamaVersion> {
    Json(OllamaVersion {
        version: API_VERSION.into(),
    })
}

/// The loaded models, named `ID:latest` (the LLM and the embedding model).
#[utoipa::path(get, path = "/api/tags", tag = "ollama", responses(
    (status = 200, description = "The models this server answers with", body = OllamaTags),
    TokenErrors,
))]
pub async fn tags(State(state): State<SharedState>) -> Json<OllamaTags> {
    let models = loaded_entries(&state)
        .into_iter()
        .map(|(entry, _)| {
            let file = state.model_roots.locate(&entry.path);
            let meta = std::fs::metadata(&file).ok();
            OllamaTag {
                name: format!("{}:latest", entry.id),
                model: format!("{}:latest", entry.id),
                modified_at: rfc3339(meta.as_ref().and_then(|m| m.modified().ok())),
                size: meta.map_or(0, |m| m.len()),
                digest: entry.checksum().hex().to_string(),
                details: details(entry),
            }
        })
        .collect();
    Json(OllamaTags { models })
}

/// One model's details and what it can do.
#[utoipa::path(post, path = "/api/show", tag = "ollama", request_body = OllamaShowRequest, responses(
    (status = 200, description = "The model", body = OllamaShow),
    OllamaErrors,
))]
pub async fn show(
    State(state): State<SharedState>,
    body: Result<Json<OllamaShowRequest>, JsonRejection>,
) -> OllamaResult<Json<OllamaShow>> {
    let Json(request) = body?;
    let (entry, stage) = find_loaded(&state, &request.model, None)?;
    let file = state.model_roots.locate(&entry.path);
    let modified = std::fs::metadata(&file).ok().and_then(|m| m.modified().ok());
    Ok(Json(OllamaShow {
        modelfile: String::new(),
        parameters: String::new(),
        template: String::new(),
        details: details(entry),
        model_info: json!({"general.architecture": "", "hauski.id": entry.id}),
        capabilities: vec![
            if stage == "embed" {
                "embedding"
            } else {
                "completion"
            }
            .into(),
        ],
        modified_at: rfc3339(modified),
    }))
}

/// Chat, as Ollama's: NDJSON chunks while `stream` is true (the default),
/// the last with `done: true` and the figures; one object otherwise.
#[utoipa::path(post, path = "/api/chat", tag = "ollama", request_body = OllamaChatRequest, responses(
    (status = 200, description = "The answer, or its NDJSON stream", content(
        (OllamaChatChunk = "application/json"),
        (OllamaChatChunk = "application/x-ndjson"),
    )),
    OllamaErrors,
))]
pub async fn chat(
    State(state): State<SharedState>,
    body: Result<Json<OllamaChatRequest>, JsonRejection>,
) -> OllamaResult<Response> {
    let Json(request) = body?;
    let (entry, _) = find_loaded(&state, &request.model, Some("llm"))?;
    let model = format!("{}:latest", entry.id);
    let shape = input::answer_shape(request.format, request.tools)?;
    let mut messages = input::chat_messages(request.messages)?;
    let question = messages
        .iter()
        .rev()
        .find(|m| m.role == ChatRole::User && !m.content.trim().is_empty())
        .map(|m| m.content.clone())
        .ok_or_else(|| bad("no user message with text; ask something"))?;
    if !messages.iter().any(|m| m.role == ChatRole::System) {
        messages.insert(0, ChatMessage::new(ChatRole::System, system_prompt(None)));
    }
    tools::instruct(&mut messages, &shape);
    let params = params(&state, request.options, &shape)?;
    let generation = start(&state, messages, params, question)?;
    let reply = Reply {
        model,
        chat: true,
        shape,
    };
    answer(&state, generation, reply, request.stream.unwrap_or(true)).await
}

/// One prompt (with an optional system prompt), answered as `/api/chat`
/// answers, the text under `response`.
#[utoipa::path(post, path = "/api/generate", tag = "ollama", request_body = OllamaGenerateRequest, responses(
    (status = 200, description = "The answer, or its NDJSON stream", content(
        (OllamaGenerateChunk = "application/json"),
        (OllamaGenerateChunk = "application/x-ndjson"),
    )),
    OllamaErrors,
))]
pub async fn generate(
    State(state): State<SharedState>,
    body: Result<Json<OllamaGenerateRequest>, JsonRejection>,
) -> OllamaResult<Response> {
    let Json(request) = body?;
    let shape = input::answer_shape(request.format, None)?;
    let (entry, _) = find_loaded(&state, &request.model, Some("llm"))?;
    let model = format!("{}:latest", entry.id);
    if request.prompt.trim().is_empty() {
        return Err(bad("prompt is empty; send something to answer"));
    }
    let system = request.system.unwrap_or_else(|| system_prompt(None));
    let mut messages = vec![
        ChatMessage::new(ChatRole::System, system),
        ChatMessage::new(ChatRole::User, request.prompt.clone()),
    ];
    tools::instruct(&mut messages, &shape);
    let params = params(&state, request.options, &shape)?;
    let generation = start(&state, messages, params, request.prompt)?;
    let reply = Reply {
        model,
        chat: false,
        shape,
    };
    answer(&state, generation, reply, request.stream.unwrap_or(true)).await
}

/// OllamaEmbeddings of one string or several, with the loaded embedding model.
#[utoipa::path(post, path = "/api/embed", tag = "ollama", request_body = OllamaEmbedRequest, responses(
    (status = 200, description = "One vector per input", body = OllamaEmbeddings),
    OllamaErrors,
))]
pub async fn embed(
    State(state): State<SharedState>,
    body: Result<Json<OllamaEmbedRequest>, JsonRejection>,
) -> OllamaResult<Json<OllamaEmbeddings>> {
    let Json(request) = body?;
    let (entry, _) = find_loaded(&state, &request.model, Some("embed"))?;
    let model = format!("{}:latest", entry.id);
    let embedder = state.engines.embedder.clone().ok_or_else(|| {
        OllamaFail(
            StatusCode::SERVICE_UNAVAILABLE,
            "no embedding model is loaded".into(),
        )
    })?;
    let inputs = match request.input {
        OllamaEmbedInput::One(s) => vec![s],
        OllamaEmbedInput::Many(v) => v,
    };
    check_inputs(&inputs, state.limits().max_embedding_inputs)?;
    let started = Instant::now();
    let (embeddings, tokens) = embed_texts(embedder, inputs).await?;
    Ok(Json(OllamaEmbeddings {
        model,
        embeddings,
        total_duration: nanos(started.elapsed()),
        load_duration: 0,
        prompt_eval_count: tokens,
    }))
}

/// The loaded models HausKI answers with over Ollama's API: (entry, stage).
fn loaded_entries(state: &SharedState) -> Vec<(&ModelEntry, &'static str)> {
    state
        .engines
        .loaded
        .iter()
        .filter(|(_, stage)| matches!(*stage, "llm" | "embed"))
        .filter_map(|(id, stage)| Some((state.config.models.find(id)?, *stage)))
        .collect()
}

/// The loaded model `requested` names (`ID`, `ID:latest`, or `hauski` for
/// the LLM), at `stage` when given; Ollama's 404 otherwise.
fn find_loaded<'s>(
    state: &'s SharedState,
    requested: &str,
    stage: Option<&str>,
) -> OllamaResult<(&'s ModelEntry, &'static str)> {
    let name = requested.strip_suffix(":latest").unwrap_or(requested);
    let loaded = loaded_entries(state);
    loaded
        .iter()
        .find(|(entry, s)| {
            stage.is_none_or(|want| want == *s) && (entry.id == name || (name == "hauski" && *s == "llm"))
        })
        .copied()
        .ok_or_else(|| {
            let names: Vec<String> = loaded.iter().map(|(e, _)| format!("{}:latest", e.id)).collect();
            OllamaFail(
                StatusCode::NOT_FOUND,
                format!(
                    "model \"{requested}\" not found; this server has {} (GET /api/tags)",
                    names.join(", ")
                ),
            )
        })
}

fn details(entry: &ModelEntry) -> OllamaModelDetails {
    OllamaModelDetails {
        parent_model: String::new(),
        format: if entry.kind == ModelKind::Llm {
            "gguf"
        } else {
            "safetensors"
        }
        .into(),
        family: String::new(),
        families: Vec::new(),
        parameter_size: String::new(),
        quantization_level: entry.quantisation.to_uppercase(),
    }
}

/// Ollama's options within policies/limits.yaml, as the API's own requests are.
/// With `shape`'s grammar, if it has one.
fn params(
    state: &SharedState,
    options: Option<OllamaOptions>,
    shape: &AnswerShape,
) -> OllamaResult<GenerationParams> {
    let options = options.unwrap_or_default();
    let requested = Requested {
        max_tokens: options
            .num_predict
            .filter(|n| *n > 0)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        temperature: options.temperature,
        top_p: options.top_p,
        seed: options.seed.map(|s| s as u32),
        stop: options.stop.filter(|s| !s.is_empty()),
    };
    let mut params = generation_params(&state.config.limits, Door::Api, &requested)
        .map_err(|e| bad(format!("options.{}: {}", ollama_option(e.param), e.message)))?;
    params.grammar = shape.grammar().map_err(|e| {
        let field = if shape.has_tools() { "tools" } else { "format" };
        bad(format!("{field}: {e}"))
    })?;
    Ok(params)
}

/// The option as an Ollama client calls it.
fn ollama_option(param: &str) -> &str {
    match param {
        "max_tokens" => "num_predict",
        other => other,
    }
}

fn start(
    state: &SharedState,
    messages: Vec<ChatMessage>,
    params: GenerationParams,
    question: String,
) -> OllamaResult<Generation> {
    let pool = state
        .engines
        .llm
        .as_ref()
        .ok_or_else(|| OllamaFail(StatusCode::SERVICE_UNAVAILABLE, "no LLM is loaded".into()))?;
    let generation = pool.submit(messages, params).map_err(|e| match e {
        SubmitError::Busy { .. } => OllamaFail(StatusCode::TOO_MANY_REQUESTS, e.to_string()),
        SubmitError::Stopped => OllamaFail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    })?;
    state.bus.publish(BusEvent::TurnStart {
        door: Door::Api.name().into(),
        question,
    });
    Ok(generation)
}

/// How the answer's chunks are shaped: `/api/chat`'s or `/api/generate`'s.
struct Reply {
    model: String,
    chat: bool,
    /// What the answer was held to: a tool call is read out of it at the end.
    shape: AnswerShape,
}

impl Reply {
    fn chunk(&self, text: &str, figures: Option<OllamaFigures>) -> Value {
        self.message_chunk(text, None, figures)
    }

    /// The whole answer, read for a tool call.
    fn shaped_chunk(&self, stats: &GenerationStats, figures: Option<OllamaFigures>) -> Value {
        let answer = self.shape.read(&stats.text);
        let calls = answer.call.map(|c| {
            vec![OllamaToolCall {
                function: OllamaFunctionCall {
                    name: c.name,
                    arguments: c.arguments,
                },
            }]
        });
        self.message_chunk(&answer.text, calls, figures)
    }

    fn message_chunk(
        &self,
        text: &str,
        tool_calls: Option<Vec<OllamaToolCall>>,
        figures: Option<OllamaFigures>,
    ) -> Value {
        let done = figures.is_some();
        let created_at = rfc3339(Some(SystemTime::now()));
        let value = if self.chat {
            serde_json::to_value(OllamaChatChunk {
                model: self.model.clone(),
                created_at,
                message: OllamaAssistantMessage {
                    role: "assistant".into(),
                    content: text.into(),
                    tool_calls,
                },
                done,
                figures,
            })
        } else {
            serde_json::to_value(OllamaGenerateChunk {
                model: self.model.clone(),
                created_at,
                response: text.into(),
                done,
                figures,
            })
        };
        value.unwrap_or_default()
    }
}

async fn answer(
    state: &SharedState,
    mut generation: Generation,
    reply: Reply,
    stream: bool,
) -> OllamaResult<Response> {
    let timeout = Duration::from_millis(state.limits().request_timeout_ms);
    let bus = state.bus.clone();
    let turn_end = move |stats: &GenerationStats| {
        bus.publish(BusEvent::TurnEnd {
            door: Door::Api.name().into(),
            answer: stats.text.clone(),
        });
    };
    if !stream {
        let stats = collect(generation, timeout).await?;
        turn_end(&stats);
        return Ok(Json(reply.shaped_chunk(&stats, Some(figures(&stats)))).into_response());
    }
    let deadline = Instant::now() + timeout;
    // The status line goes out with the first token (see `first_event`).
    let first = first_event(&mut generation, deadline, timeout).await?;
    let lines = futures_util::stream::unfold(
        (generation, reply, false, Some(first)),
        move |(mut generation, reply, finished, mut first)| {
            let turn_end = turn_end.clone();
            async move {
                if finished {
                    return None;
                }
                let (lines, finished) = loop {
                    let next = match first.take() {
                        Some(event) => Ok(Some(event)),
                        None => tokio::time::timeout_at(deadline, generation.events.recv()).await,
                    };
                    break match next {
                        // With tools the words are held back (a call must not leak out as text).
                        Ok(Some(GenerationEvent::Text(_))) if reply.shape.has_tools() => continue,
                        Ok(Some(GenerationEvent::Text(piece))) => (vec![reply.chunk(&piece, None)], false),
                        Ok(Some(GenerationEvent::Done(Ok(stats)))) => {
                            turn_end(&stats);
                            let done = reply.chunk("", Some(figures(&stats)));
                            if reply.shape.has_tools() {
                                // The answer as Ollama streams a call: its own line, then the done line.
                                let held = reply.shaped_chunk(&stats, None);
                                (vec![held, done], true)
                            } else {
                                (vec![done], true)
                            }
                        }
                        Ok(Some(GenerationEvent::Done(Err(e)))) => {
                            (vec![json!({"error": e.to_string()})], true)
                        }
                        Ok(None) => (vec![json!({"error": "the generation stopped"})], true),
                        Err(_) => {
                            generation.cancel();
                            (
                                vec![
                                    json!({"error": format!("took longer than {} ms; cancelled", timeout.as_millis())}),
                                ],
                                true,
                            )
                        }
                    };
                };
                let mut bytes = Vec::new();
                for line in lines {
                    bytes.extend(line.to_string().into_bytes());
                    bytes.push(b'\n');
                }
                Some((
                    Ok::<_, Infallible>(Bytes::from(bytes)),
                    (generation, reply, finished, None),
                ))
            }
        },
    );
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(lines),
    )
        .into_response())
}

fn figures(stats: &GenerationStats) -> OllamaFigures {
    OllamaFigures {
        done_reason: match stats.finish {
            FinishReason::Length => "length",
            _ => "stop",
        }
        .into(),
        total_duration: nanos(stats.prompt_eval + stats.generation),
        load_duration: 0,
        prompt_eval_count: stats.prompt_tokens,
        prompt_eval_duration: nanos(stats.prompt_eval),
        eval_count: stats.completion_tokens,
        eval_duration: nanos(stats.generation),
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// RFC 3339 in UTC, whole seconds, as Ollama writes times (the epoch when unknown).
fn rfc3339(time: Option<SystemTime>) -> String {
    let secs = time
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    jiff::Timestamp::from_second(secs)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        let at = |s: u64| rfc3339(Some(SystemTime::UNIX_EPOCH + Duration::from_secs(s)));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_796_083_200 + 3_661), "2026-12-01T01:01:01Z");
    }
}
