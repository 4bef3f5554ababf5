//! `POST /v1/chat/completions`, shaped as OpenAI's so the official SDKs work
//! unchanged: plain and streamed (SSE) answers, budgets, sampling, stops.
//!
//! HausKI extension: `"retrieval": {"notes": true}` in the body (the SDKs'
//! `extra_body`) puts the owner's best-matching notes in front of the chat,
//! and the answer carries `"hauski": {"sources": [...]}`.
//!
//! `response_format` and `tools` are held by grammar sampling (see
//! [`crate::api::tools`]): JSON answers always parse, tool calls come back
//! as OpenAI's `tool_calls`.

mod request;
mod stream;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::response::{IntoResponse, Response};
use hauski_brain::{FinishReason, GenerationStats};

use request::ChatRequest;

use super::error::{ApiError, ApiResult};
use super::schema::{
    AssistantMessage, ChatChoice, ChatCompletion, ErrorBody, FunctionCall, GenerationErrors, PromptSources,
    RequestErrors, ResponseToolCall, Usage,
};
use super::state::SharedState;
use crate::assistant::bus::{Bus, Event as BusEvent};
use crate::assistant::context::TurnContext;
use crate::assistant::generation::Door;
use crate::assistant::tools::{AnswerShape, ShapedAnswer};
use crate::llm_pool::{Generation, GenerationEvent, SubmitError};

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
    let prepared = request::prepare(&state, request).await?;
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
        shape: prepared.shape,
        bus: state.bus.clone(),
    };
    let timeout = Duration::from_millis(state.limits().request_timeout_ms);
    if stream {
        Ok(stream::streamed(generation, meta, include_usage, timeout)
            .await?
            .into_response())
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

pub struct ChunkMeta {
    pub id: String,
    pub created: u64,
    pub model: String,
    pub context: TurnContext,
    /// What the answer was held to: a tool call is read out of it at the end.
    pub shape: AnswerShape,
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

fn finish_reason(finish: FinishReason, answer: &ShapedAnswer) -> &'static str {
    if answer.call.is_some() {
        return "tool_calls";
    }
    match finish {
        FinishReason::Stop | FinishReason::Cancelled => "stop",
        FinishReason::Length => "length",
    }
}

/// An answer's tool call in OpenAI's shape (arguments as a JSON string).
fn tool_calls(answer: &ShapedAnswer, completion_id: &str) -> Option<Vec<ResponseToolCall>> {
    let call = answer.call.as_ref()?;
    Some(vec![ResponseToolCall {
        id: format!("call_{}", completion_id.trim_start_matches("chatcmpl-")),
        kind: "function".into(),
        function: FunctionCall {
            name: call.name.clone(),
            arguments: call.arguments.to_string(),
        },
    }])
}

fn usage(stats: &GenerationStats) -> Usage {
    Usage {
        prompt_tokens: stats.prompt_tokens,
        completion_tokens: stats.completion_tokens,
        total_tokens: stats.prompt_tokens + stats.completion_tokens,
    }
}

fn completion_body(meta: &ChunkMeta, stats: &GenerationStats) -> ChatCompletion {
    let answer = meta.shape.read(&stats.text);
    let calls = tool_calls(&answer, &meta.id);
    ChatCompletion {
        id: meta.id.clone(),
        object: "chat.completion".into(),
        created: meta.created,
        model: meta.model.clone(),
        choices: vec![ChatChoice {
            index: 0,
            message: AssistantMessage {
                role: "assistant".into(),
                // OpenAI sends null content with a call and no words.
                content: (calls.is_none() || !answer.text.is_empty()).then(|| answer.text.clone()),
                tool_calls: calls,
            },
            logprobs: None,
            finish_reason: finish_reason(stats.finish, &answer).into(),
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

/// Waits for a generation's first event, so that a streamed answer's status
/// line is sent with its first token: an error before any token (a prompt
/// too long for the context, a deadline passed in the queue) is then a real
/// HTTP status that SDKs raise, instead of an error event after a 200.
pub async fn first_event(
    generation: &mut Generation,
    deadline: tokio::time::Instant,
    timeout: Duration,
) -> ApiResult<GenerationEvent> {
    match tokio::time::timeout_at(deadline, generation.events.recv()).await {
        Ok(Some(GenerationEvent::Done(Err(e)))) => Err(brain_error(e)),
        Ok(Some(event)) => Ok(event),
        Ok(None) => Err(ApiError::internal("the LLM worker stopped before answering")),
        Err(_) => {
            generation.cancel();
            Err(ApiError::timeout(timeout))
        }
    }
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use axum::http::StatusCode;
    use hauski_brain::BrainError;
    use tokio::time::Instant;

    use super::*;

    const LIMIT: Duration = Duration::from_secs(30);

    #[tokio::test]
    async fn a_prompt_refused_before_any_token_is_a_400_not_a_stream() {
        let (mut generation, events, _) = Generation::fed_by_test();
        let too_long = BrainError::PromptTooLong {
            prompt: 9000,
            budget: 256,
            context: 8192,
        };
        events
            .send(GenerationEvent::Done(Err(too_long)))
            .await
            .expect("the receiver is alive");
        let error = first_event(&mut generation, Instant::now() + LIMIT, LIMIT)
            .await
            .expect_err("an error before the first token");
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.param, Some("messages"));
    }

    #[tokio::test]
    async fn no_first_token_by_the_deadline_is_a_504_and_cancels() {
        let (mut generation, _events, cancelled) = Generation::fed_by_test();
        // A deadline already passed: the wait ends at its first poll.
        let error = first_event(&mut generation, Instant::now(), LIMIT)
            .await
            .expect_err("nothing came");
        assert_eq!(error.status, StatusCode::GATEWAY_TIMEOUT);
        assert!(
            cancelled.load(Ordering::Relaxed),
            "the worker was not told to stop"
        );
    }

    #[tokio::test]
    async fn the_first_token_is_handed_on() {
        let (mut generation, events, cancelled) = Generation::fed_by_test();
        events
            .send(GenerationEvent::Text("Rome".into()))
            .await
            .expect("the receiver is alive");
        let first = first_event(&mut generation, Instant::now() + LIMIT, LIMIT).await;
        assert!(
            matches!(first, Ok(GenerationEvent::Text(ref t)) if t == "Rome"),
            "{first:?}"
        );
        assert!(!cancelled.load(Ordering::Relaxed));
    }
}
