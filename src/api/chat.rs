//! `POST /v1/chat/completions`, shaped as OpenAI's so the official SDKs work
//! unchanged: plain and streamed (SSE) answers, budgets, sampling, stops.
//!
//! HausKI extension: `"retrieval": {"notes": true}` in the body (the SDKs'
//! `extra_body`) puts the owner's best-matching notes in front of the chat,
//! and the answer carries `"hauski": {"sources": [...]}`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use hauski_brain::{ChatMessage, ChatRole, FinishReason, GenerationParams, GenerationStats};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult};
use super::schema::{
    AssistantMessage, ChatChoice, ChatCompletion, ErrorBody, GenerationErrors, PromptSources, RequestErrors,
    Usage,
};
use super::state::SharedState;
use crate::assistant::Allow;
use crate::assistant::bus::{Bus, Event as BusEvent};
use crate::assistant::context::{TurnContext, compose, system_prompt};
use crate::assistant::generation::{Door, Requested, generation_params};
use crate::llm_pool::{Generation, GenerationEvent, SubmitError};

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChatRequest {
    /// The loaded LLM's id (`GET /v1/models`).
    model: String,
    /// The chat so far, ending with the question.
    messages: Vec<RequestMessage>,
    /// Answer as server-sent events, ending in `data: [DONE]`.
    #[serde(default)]
    stream: bool,
    stream_options: Option<StreamOptions>,
    max_tokens: Option<u32>,
    max_completion_tokens: Option<u32>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    seed: Option<i64>,
    stop: Option<Stop>,
    /// Only 1.
    n: Option<u32>,
    /// HausKI's extension: the owner's notes and memories that fit the question.
    retrieval: Option<Retrieval>,
}

#[derive(Debug, Deserialize, ToSchema)]
struct RequestMessage {
    /// `system`, `developer`, `user` or `assistant`.
    role: String,
    #[serde(default)]
    content: Option<Content>,
}

/// A message's content: a string, or (newer SDKs) a list of typed parts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<ContentPart>),
}

#[derive(Debug, Deserialize, ToSchema)]
struct ContentPart {
    /// Only `text` is understood.
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
enum Stop {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize, ToSchema)]
struct StreamOptions {
    #[serde(default)]
    include_usage: bool,
}

/// HausKI's extension: what the answer may draw on.
#[derive(Debug, Deserialize, ToSchema)]
struct Retrieval {
    /// The owner's indexed notes that fit the question.
    #[serde(default)]
    notes: bool,
    /// The memories that fit the question (pinned ones always).
    #[serde(default)]
    memories: bool,
}

/// A checked request, ready for the LLM.
pub struct PreparedChat {
    /// The last user message: what the turn answers.
    pub question: String,
    pub messages: Vec<ChatMessage>,
    pub params: GenerationParams,
    /// The memories and notes put into the prompt.
    pub context: TurnContext,
}

/// Chat completion (OpenAI-compatible); `stream: true` answers as server-sent
/// events ending in `data: [DONE]`. Without a system message the chat gets
/// HausKI's own, as every other door's turn does.
#[utoipa::path(post, path = "/v1/chat/completions", tag = "openai", request_body = ChatRequest, responses(
    (status = 200, description = "The answer, or its stream", content(
        (ChatCompletion = "application/json"),
        (String = "text/event-stream"),
    )),
    RequestErrors,
    GenerationErrors,
    (status = 404, description = "The model named is not the one loaded", body = ErrorBody),
))]
pub async fn completions(
    State(state): State<SharedState>,
    body: Result<Json<ChatRequest>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(request) = body?;
    let model = loaded_model(&state, &request.model)?;
    let stream = request.stream;
    let include_usage = request.stream_options.as_ref().is_some_and(|o| o.include_usage);
    let prepared = prepare(&state, request).await?;
    let pool = state
        .engines
        .llm
        .as_ref()
        .ok_or_else(|| ApiError::internal("no LLM is loaded"))?;
    let generation = pool
        .submit(prepared.messages, prepared.params)
        .map_err(|e| match e {
            SubmitError::Busy { .. } => ApiError::busy(e.to_string()),
            SubmitError::Stopped => ApiError::internal(e),
        })?;
    state.bus.publish(BusEvent::TurnStart {
        door: Door::Api.name().into(),
        question: prepared.question,
    });
    let meta = ChunkMeta {
        id: completion_id(),
        created: unix_now(),
        model,
        context: prepared.context,
        bus: state.bus.clone(),
    };
    let timeout = Duration::from_millis(state.limits().request_timeout_ms);
    if stream {
        Ok(streamed(generation, meta, include_usage, timeout).into_response())
    } else {
        let stats = collect(generation, timeout).await?;
        meta.turn_end(&stats);
        Ok(Json(completion_body(&meta, &stats)).into_response())
    }
}

/// The model a request names, if it is the one loaded; OpenAI's 404 otherwise.
fn loaded_model(state: &SharedState, requested: &str) -> ApiResult<String> {
    let pool = state.engines.llm.as_ref().ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "no LLM is loaded; run `hauski models pull gemma-3-270m` and restart `hauski serve`",
        )
    })?;
    let loaded = pool.model_id();
    // "hauski" means whatever this server answers with.
    if requested == loaded || requested == "hauski" {
        return Ok(loaded.to_string());
    }
    let known = state.config.models.find(requested).is_some();
    Err(ApiError::not_found(
        "model_not_found",
        if known {
            format!(
                "model {requested:?} is in models.yml but not loaded; this server answers with {loaded:?} (start it with --llm {requested} to change)"
            )
        } else {
            format!(
                "the model {requested:?} does not exist; GET /v1/models lists them (this server answers with {loaded:?})"
            )
        },
    ))
}

async fn prepare(state: &SharedState, request: ChatRequest) -> ApiResult<PreparedChat> {
    if request.n.is_some_and(|n| n != 1) {
        return Err(ApiError::invalid("n", "only n = 1 is supported"));
    }
    if request.messages.is_empty() {
        return Err(ApiError::invalid(
            "messages",
            "messages is empty; send at least one user message",
        ));
    }
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    for (i, m) in request.messages.into_iter().enumerate() {
        let role = match m.role.as_str() {
            "system" | "developer" => ChatRole::System,
            "user" => ChatRole::User,
            "assistant" => ChatRole::Assistant,
            other => {
                return Err(ApiError::invalid(
                    "messages",
                    format!("messages[{i}].role {other:?} is not one of system, developer, user, assistant"),
                ));
            }
        };
        let content = match m.content {
            None => String::new(),
            Some(Content::Text(t)) => t,
            Some(Content::Parts(parts)) => {
                if let Some(p) = parts.iter().find(|p| p.kind != "text") {
                    return Err(ApiError::invalid(
                        "messages",
                        format!("messages[{i}] has a {:?} part; only text is understood", p.kind),
                    ));
                }
                parts
                    .into_iter()
                    .filter_map(|p| p.text)
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        };
        messages.push(ChatMessage::new(role, content));
    }
    let Some(question) = messages
        .iter()
        .rev()
        .find(|m| m.role == ChatRole::User && !m.content.trim().is_empty())
        .map(|m| m.content.clone())
    else {
        return Err(ApiError::invalid(
            "messages",
            "no user message with text; ask something",
        ));
    };

    let stop = match request.stop {
        None => None,
        Some(Stop::One(s)) => Some(vec![s]),
        Some(Stop::Many(v)) => Some(v),
    };
    let requested = Requested {
        max_tokens: request.max_completion_tokens.or(request.max_tokens),
        temperature: request.temperature,
        top_p: request.top_p,
        // Any integer is a valid seed to OpenAI; llama.cpp takes 32 bits.
        seed: request.seed.map(|s| s as u32),
        stop,
    };
    let params = generation_params(&state.config.limits, Door::Api, &requested)
        .map_err(|e| ApiError::invalid(e.param, e.message))?;

    // A chat reads what it is allowed to; its words never act (no profile
    // switches, no memory writes): it is a question like any other.
    let allow = Allow {
        memories: request.retrieval.as_ref().is_some_and(|r| r.memories),
        notes: request.retrieval.as_ref().is_some_and(|r| r.notes),
        ..Allow::NONE
    };
    if allow.notes && state.notes.is_none() {
        return Err(ApiError::invalid(
            "retrieval",
            "no notes are indexed; run `hauski index add DIR` and restart `hauski serve`",
        ));
    }
    if allow.memories && state.memory.is_none() {
        return Err(ApiError::invalid(
            "retrieval",
            "memory is off in this daemon (its log says why at start)",
        ));
    }
    let mut context = TurnContext::default();
    if allow.memories || allow.notes {
        let assistant = state.assistant.clone();
        let question = question.clone();
        context = tokio::task::spawn_blocking(move || assistant.context_for(&question, allow))
            .await
            .map_err(ApiError::internal)?
            .map_err(|e| ApiError::internal(format!("{e:#}")))?;
    }
    // A chat without a system message gets HausKI's, so every door asks
    // the LLM the same way for the same question.
    if !messages.iter().any(|m| m.role == ChatRole::System) {
        messages.insert(0, ChatMessage::new(ChatRole::System, system_prompt(None)));
    }
    Ok(PreparedChat {
        question,
        messages: compose(messages, &context),
        params,
        context,
    })
}

pub struct ChunkMeta {
    pub id: String,
    pub created: u64,
    pub model: String,
    pub context: TurnContext,
    /// Where the turn's end is told.
    pub bus: Bus,
}

impl ChunkMeta {
    /// HausKI's extension field: what went into the prompt, if anything.
    fn hauski(&self) -> Option<PromptSources> {
        let c = &self.context;
        (!c.memories.is_empty() || !c.notes.is_empty()).then(|| PromptSources {
            sources: c.sources(),
            memories: c.memories.clone(),
            notes: c.notes.clone(),
        })
    }

    /// The answer is out: the bus hears the turn's end.
    fn turn_end(&self, stats: &GenerationStats) {
        self.bus.publish(BusEvent::TurnEnd {
            door: Door::Api.name().into(),
            answer: stats.text.clone(),
        });
    }
}

fn finish_reason(finish: FinishReason) -> &'static str {
    match finish {
        FinishReason::Stop | FinishReason::Cancelled => "stop",
        FinishReason::Length => "length",
    }
}

fn usage(stats: &GenerationStats) -> Usage {
    Usage {
        prompt_tokens: stats.prompt_tokens,
        completion_tokens: stats.completion_tokens,
        total_tokens: stats.prompt_tokens + stats.completion_tokens,
    }
}

fn completion_body(meta: &ChunkMeta, stats: &GenerationStats) -> ChatCompletion {
    ChatCompletion {
        id: meta.id.clone(),
        object: "chat.completion".into(),
        created: meta.created,
        model: meta.model.clone(),
        choices: vec![ChatChoice {
            index: 0,
            message: AssistantMessage {
                role: "assistant".into(),
                content: stats.text.clone(),
            },
            logprobs: None,
            finish_reason: finish_reason(stats.finish).into(),
        }],
        usage: usage(stats),
        hauski: meta.hauski(),
    }
}

fn brain_error(e: hauski_brain::BrainError) -> ApiError {
    match e {
        hauski_brain::BrainError::PromptTooLong { .. } | hauski_brain::BrainError::EmptyPrompt => {
            ApiError::invalid("messages", e.to_string())
        }
        hauski_brain::BrainError::InvalidInput(m) => ApiError::invalid("messages", m),
        other => ApiError::internal(other),
    }
}

/// Waits for the whole answer; past the deadline the generation is cancelled.
pub async fn collect(mut generation: Generation, timeout: Duration) -> ApiResult<GenerationStats> {
    let wait = async {
        while let Some(event) = generation.events.recv().await {
            if let GenerationEvent::Done(result) = event {
                return result.map_err(brain_error);
            }
        }
        Err(ApiError::internal("the LLM worker stopped mid-answer"))
    };
    match tokio::time::timeout(timeout, wait).await {
        Ok(result) => result,
        Err(_) => {
            generation.cancel();
            Err(ApiError::timeout(timeout))
        }
    }
}

struct StreamState {
    generation: Generation,
    meta: ChunkMeta,
    include_usage: bool,
    deadline: Instant,
    timeout: Duration,
    pending: VecDeque<Event>,
    finished: bool,
}

impl StreamState {
    fn chunk(&self, delta: Value, finish: Option<&str>) -> Event {
        let mut body = json!({
            "id": self.meta.id,
            "object": "chat.completion.chunk",
            "created": self.meta.created,
            "model": self.meta.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        // Only the first (role) chunk carries the extension: built there alone.
        if delta.get("role").is_some()
            && let Some(hauski) = self.meta.hauski()
        {
            body["hauski"] = serde_json::to_value(hauski).unwrap_or_default();
        }
        Event::default().data(body.to_string())
    }

    fn finish(&mut self, result: ApiResult<GenerationStats>) {
        match result {
            Ok(stats) => {
                self.meta.turn_end(&stats);
                let last = self.chunk(json!({}), Some(finish_reason(stats.finish)));
                self.pending.push_back(last);
                if self.include_usage {
                    let body = json!({
                        "id": self.meta.id,
                        "object": "chat.completion.chunk",
                        "created": self.meta.created,
                        "model": self.meta.model,
                        "choices": [],
                        "usage": usage(&stats),
                    });
                    self.pending.push_back(Event::default().data(body.to_string()));
                }
            }
            // The status line is long gone: the error travels as an event.
            Err(e) => self
                .pending
                .push_back(Event::default().data(e.body().to_string())),
        }
        self.pending.push_back(Event::default().data("[DONE]"));
        self.finished = true;
    }
}

/// SSE: a role chunk, content deltas as tokens arrive, a finish chunk,
/// optional usage, then `[DONE]`. Dropping the stream (client gone) drops the
/// receiver, and the worker stops at its next token.
fn streamed(
    generation: Generation,
    meta: ChunkMeta,
    include_usage: bool,
    timeout: Duration,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut state = StreamState {
        generation,
        meta,
        include_usage,
        deadline: Instant::now() + timeout,
        timeout,
        pending: VecDeque::new(),
        finished: false,
    };
    let first = state.chunk(json!({"role": "assistant", "content": ""}), None);
    state.pending.push_back(first);
    let stream = futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(event) = state.pending.pop_front() {
                return Some((Ok(event), state));
            }
            if state.finished {
                return None;
            }
            let next = tokio::time::timeout_at(state.deadline, state.generation.events.recv()).await;
            match next {
                Ok(Some(GenerationEvent::Text(piece))) => {
                    let event = state.chunk(json!({"content": piece}), None);
                    return Some((Ok(event), state));
                }
                Ok(Some(GenerationEvent::Done(result))) => state.finish(result.map_err(brain_error)),
                Ok(None) => state.finish(Err(ApiError::internal("the LLM worker stopped mid-answer"))),
                Err(_) => {
                    state.generation.cancel();
                    let limit = state.timeout;
                    state.finish(Err(ApiError::timeout(limit)));
                }
            }
        }
    });
    Sse::new(stream)
}

pub fn completion_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("chatcmpl-{:x}{:08x}", NEXT.fetch_add(1, Ordering::Relaxed), nanos)
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
