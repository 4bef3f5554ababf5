//! One conversation: a llama.cpp context whose KV cache survives between turns.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::token::LlamaToken;

use crate::sampling::TokenPicker;
use crate::stop::{Scan, StopScanner};
use crate::utf8::Utf8Joiner;
use crate::{BrainError, ChatMessage, GenerationParams, LanguageModel, Turn};

/// Why generation ended, in OpenAI's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// A stop sequence or the model's end-of-text token.
    Stop,
    /// The max-token budget ran out.
    Length,
    /// The caller asked to stop (e.g. barge-in, client gone).
    Cancelled,
}

/// What one turn cost and produced.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationStats {
    pub text: String,
    pub finish: FinishReason,
    /// Tokens in the whole prompt (system prefix + this turn).
    pub prompt_tokens: usize,
    /// Prompt tokens actually evaluated; the rest came from the prompt cache.
    pub prompt_tokens_evaluated: usize,
    pub completion_tokens: usize,
    pub prompt_eval: Duration,
    pub time_to_first_token: Duration,
    pub generation: Duration,
}

impl GenerationStats {
    pub fn prompt_tokens_per_s(&self) -> f64 {
        self.prompt_tokens_evaluated as f64 / self.prompt_eval.as_secs_f64().max(1e-9)
    }

    pub fn generation_tokens_per_s(&self) -> f64 {
        self.completion_tokens as f64 / self.generation.as_secs_f64().max(1e-9)
    }
}

pub struct Conversation<'m> {
    model: &'m LanguageModel,
    context: LlamaContext<'m>,
    /// Tokens whose KV entries are in the context, in order from position 0.
    cached: Vec<LlamaToken>,
}

impl<'m> Conversation<'m> {
    pub(crate) fn new(model: &'m LanguageModel, context: LlamaContext<'m>) -> Self {
        Self {
            model,
            context,
            cached: Vec::new(),
        }
    }

    /// Answers `turn`, calling `on_text` with each new piece of the answer as
    /// it is generated. Returning `ControlFlow::Break` from `on_text` cancels.
    pub fn generate(
        &mut self,
        turn: &Turn,
        params: &GenerationParams,
        on_text: impl FnMut(&str) -> ControlFlow<()>,
    ) -> Result<GenerationStats, BrainError> {
        if turn.user.trim().is_empty() {
            return Err(BrainError::EmptyPrompt);
        }
        let prompt = self.tokenize(turn);
        self.generate_tokens(&prompt, params, on_text)
    }

    /// Answers a chat (OpenAI-style messages) in the model's own chat
    /// template; the KV cache is reused for whatever prefix matches the last
    /// prompt, so a growing chat only pays for its new messages.
    pub fn generate_chat(
        &mut self,
        messages: &[ChatMessage],
        params: &GenerationParams,
        on_text: impl FnMut(&str) -> ControlFlow<()>,
    ) -> Result<GenerationStats, BrainError> {
        let rendered = self.model.render_chat(messages)?;
        // What the model is asked, whole, for checking that every door asks
        // the same way (one line: newlines escaped).
        tracing::debug!(text = ?rendered.text, "llm prompt");
        let prompt = self
            .model
            .model
            .vocab()
            .tokenize(rendered.text.as_bytes(), true, rendered.templated);
        let mut params = params.clone();
        params.stop.extend(rendered.stops);
        self.generate_tokens(&prompt, &params, on_text)
    }

    fn generate_tokens(
        &mut self,
        prompt: &[LlamaToken],
        params: &GenerationParams,
        mut on_text: impl FnMut(&str) -> ControlFlow<()>,
    ) -> Result<GenerationStats, BrainError> {
        let _span = tracing::info_span!("llm", max_tokens = params.max_tokens).entered();
        let started = Instant::now();
        let context_tokens = self.context.n_ctx();
        if prompt.len() + params.max_tokens as usize > context_tokens as usize {
            return Err(BrainError::PromptTooLong {
                prompt: prompt.len(),
                budget: params.max_tokens,
                context: context_tokens,
            });
        }

        let evaluated = self.evaluate_prompt(prompt, true)?;
        let prompt_eval = started.elapsed();
        tracing::debug!(prompt = prompt.len(), evaluated, "prompt evaluated");

        let mut picker = TokenPicker::new(&self.model.model, params)?;
        let mut scanner = StopScanner::new(&params.stop);
        let mut joiner = Utf8Joiner::default();
        let mut completion_tokens = 0usize;
        let mut first_token_at = None;
        let mut finish = FinishReason::Length;
        let mut batch = LlamaBatch::new(1, 1);
        let vocab = self.model.model.vocab();

        while completion_tokens < params.max_tokens as usize {
            let token = picker.pick(&self.context);
            picker.accept(token);
            if vocab.is_eog(token) {
                finish = FinishReason::Stop;
                break;
            }
            completion_tokens += 1;
            first_token_at.get_or_insert_with(|| started.elapsed());

            // The text goes out before the token is decoded for the next one:
            // decoding takes a whole token's time (30–45 ms here) and the
            // piece is already known, so the first sentence reaches Piper,
            // and the first token an API client, that much sooner.
            let piece = joiner.push(&vocab.token_to_piece(token, false, None));
            let (out, stopped) = match scanner.push(&piece) {
                Scan::Emit(out) => (out, false),
                Scan::Stopped(out) => (out, true),
            };
            if !out.is_empty() && on_text(&out).is_break() {
                finish = FinishReason::Cancelled;
                break;
            }
            if stopped {
                finish = FinishReason::Stop;
                break;
            }

            // A token that ends generation is never decoded, so the KV cache
            // always holds exactly `cached`.
            batch.clear();
            let pos = i32::try_from(self.cached.len()).unwrap_or(i32::MAX);
            batch
                .add(token, pos, &[0], true)
                .map_err(|e| BrainError::engine("batching", e))?;
            self.context
                .decode(&mut batch)
                .map_err(|e| BrainError::engine("decoding", e))?;
            self.cached.push(token);
        }
        if finish != FinishReason::Cancelled {
            let rest = scanner.flush();
            if !rest.is_empty() {
                let _ = on_text(&rest);
            }
        }
        let total = started.elapsed();
        Ok(GenerationStats {
            text: scanner.text().trim().to_string(),
            finish,
            prompt_tokens: prompt.len(),
            prompt_tokens_evaluated: evaluated,
            completion_tokens,
            prompt_eval,
            time_to_first_token: first_token_at.unwrap_or(total),
            generation: total.saturating_sub(prompt_eval),
        })
    }

    /// Answers `turn` without streaming.
    pub fn complete(
        &mut self,
        turn: &Turn,
        params: &GenerationParams,
    ) -> Result<GenerationStats, BrainError> {
        self.generate(turn, params, |_| ControlFlow::Continue(()))
    }

    /// Evaluates the system prompt ahead of the first question, so that turn
    /// only pays for its own words (a daemon does this at start-up).
    /// Returns how many tokens were evaluated: none when already cached.
    pub fn prime(&mut self, system: &str) -> Result<usize, BrainError> {
        let _span = tracing::debug_span!("llm_prime").entered();
        let turn = Turn {
            system: system.to_string(),
            user: String::new(),
            context: String::new(),
        };
        let prefix = self
            .model
            .model
            .vocab()
            .tokenize(turn.prefix_text().as_bytes(), true, false);
        self.evaluate_prompt(&prefix, false)
    }

    /// Forgets everything cached: the next turn evaluates its whole prompt.
    pub fn reset(&mut self) {
        self.context.clear_kv_cache();
        self.cached.clear();
    }

    fn tokenize(&self, turn: &Turn) -> Vec<LlamaToken> {
        let vocab = self.model.model.vocab();
        // The prefix and the turn are tokenized apart so that the prefix's tokens
        // are identical every turn: that is what makes them cacheable.
        let mut tokens = vocab.tokenize(turn.prefix_text().as_bytes(), true, false);
        tokens.extend(vocab.tokenize(turn.turn_text().as_bytes(), false, false));
        tokens
    }

    /// Brings the KV cache to hold exactly `prompt`, evaluating only what is not
    /// already cached. With `sample_next`, the last token is always evaluated,
    /// because sampling starts from its logits. Returns how many tokens were evaluated.
    fn evaluate_prompt(&mut self, prompt: &[LlamaToken], sample_next: bool) -> Result<usize, BrainError> {
        let _span = tracing::debug_span!("prompt_eval", tokens = prompt.len()).entered();
        let shared = self.cached.iter().zip(prompt).take_while(|(a, b)| a == b).count();
        let keep = if sample_next {
            shared.min(prompt.len().saturating_sub(1))
        } else {
            shared
        };
        let keep_u32 = u32::try_from(keep).unwrap_or(u32::MAX);
        self.context
            .clear_kv_cache_seq(Some(0), Some(keep_u32), None)
            .map_err(|e| BrainError::engine("trimming the KV cache", e))?;
        self.cached.truncate(keep);

        let batch_size = self.context.n_batch().max(1) as usize;
        let mut batch = LlamaBatch::new(batch_size, 1);
        let todo = &prompt[keep..];
        for (chunk_index, chunk) in todo.chunks(batch_size).enumerate() {
            batch.clear();
            let base = keep + chunk_index * batch_size;
            for (i, &token) in chunk.iter().enumerate() {
                let pos = i32::try_from(base + i).unwrap_or(i32::MAX);
                let is_last = sample_next && base + i + 1 == prompt.len();
                batch
                    .add(token, pos, &[0], is_last)
                    .map_err(|e| BrainError::engine("batching", e))?;
            }
            self.context
                .decode(&mut batch)
                .map_err(|e| BrainError::engine("evaluating the prompt", e))?;
        }
        self.cached.extend_from_slice(todo);
        Ok(todo.len())
    }
}
