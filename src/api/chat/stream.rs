//! The streamed answer: server-sent events as OpenAI's SDKs read them.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, Sse};
use futures_util::Stream;
use hauski_brain::GenerationStats;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{ChunkMeta, brain_error, finish_reason, tool_calls, usage};
use crate::api::error::{ApiError, ApiResult};
use crate::llm_pool::{Generation, GenerationEvent};

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

    /// Queues what one event from the worker (or its end) says.
    fn take(&mut self, event: Option<GenerationEvent>) {
        match event {
            // With tools the words are held back until the end.
            Some(GenerationEvent::Text(_)) if self.meta.shape.has_tools() => {}
            Some(GenerationEvent::Text(piece)) => {
                let event = self.chunk(json!({"content": piece}), None);
                self.pending.push_back(event);
            }
            Some(GenerationEvent::Done(result)) => self.finish(result.map_err(brain_error)),
            None => self.finish(Err(ApiError::internal("the LLM worker stopped mid-answer"))),
        }
    }

    fn finish(&mut self, result: ApiResult<GenerationStats>) {
        match result {
            Ok(stats) => {
                self.meta.turn_end(&stats);
                let answer = self.meta.shape.read(&stats.text);
                // With tools the words were held back (a call must not leak
                // out as text): the whole answer goes out now, in one delta.
                if self.meta.shape.has_tools() {
                    let delta = match tool_calls(&answer, &self.meta.id) {
                        Some(calls) => {
                            let calls: Vec<Value> = calls
                                .into_iter()
                                .enumerate()
                                .map(|(index, c)| {
                                    let mut v = serde_json::to_value(c).unwrap_or_default();
                                    v["index"] = json!(index);
                                    v
                                })
                                .collect();
                            json!({"tool_calls": calls})
                        }
                        None => json!({"content": answer.text}),
                    };
                    let held = self.chunk(delta, None);
                    self.pending.push_back(held);
                }
                let last = self.chunk(json!({}), Some(finish_reason(stats.finish, &answer)));
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
/// optional usage, then `[DONE]`. The status line waits for the first event
/// ([`super::first_event`]), so an error before any token is an HTTP error.
/// Dropping the stream (client gone) drops the receiver, and the worker
/// stops at its next token.
pub(super) async fn streamed(
    mut generation: Generation,
    meta: ChunkMeta,
    include_usage: bool,
    timeout: Duration,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let deadline = Instant::now() + timeout;
    let first = super::first_event(&mut generation, deadline, timeout).await?;
    let mut state = StreamState {
        generation,
        meta,
        include_usage,
        deadline,
        timeout,
        pending: VecDeque::new(),
        finished: false,
    };
    let role = state.chunk(json!({"role": "assistant", "content": ""}), None);
    state.pending.push_back(role);
    state.take(Some(first));
    let stream = futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(event) = state.pending.pop_front() {
                return Some((Ok(event), state));
            }
            if state.finished {
                return None;
            }
            match tokio::time::timeout_at(state.deadline, state.generation.events.recv()).await {
                Ok(event) => state.take(event),
                Err(_) => {
                    state.generation.cancel();
                    let limit = state.timeout;
                    state.finish(Err(ApiError::timeout(limit)));
                }
            }
        }
    });
    Ok(Sse::new(stream))
}
