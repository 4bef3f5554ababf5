//! A whole answer to a question in text, for doors that take it in one
//! piece: Home Assistant's conversation stage (Wyoming `handle`). The same
//! core as the voice loop's turn: an intent where the door allows one, else
//! the LLM with the question's memories and notes, through `prompt_for`.

use super::bus::Event;
use super::context::{TurnContext, prompt_for};
use super::generation::{Door, Requested, generation_params};
use super::{Allow, Assistant};
use crate::llm_pool::{Generation, GenerationEvent, SubmitError};

#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    #[error("no LLM is loaded; run `hauski models pull` for one named in models.yml")]
    NoLlm,
    #[error("policies/limits.yaml's llm settings are out of bounds: {0}")]
    Limits(String),
    #[error(transparent)]
    Busy(#[from] SubmitError),
    #[error("the answer failed: {0}")]
    Generation(String),
}

impl Assistant {
    /// The reply to `question` at `door`, as far as `allow` lets it act.
    /// Blocks until the answer is complete: call it off the async threads.
    pub fn reply(&self, question: &str, door: Door, allow: Allow) -> Result<String, ReplyError> {
        let _span = tracing::info_span!("turn", door = door.name()).entered();
        let question = question.trim();
        self.bus.publish(Event::TurnStart {
            door: door.name().into(),
            question: question.to_string(),
        });
        let answer = match self.recognise(question, allow) {
            Some(intent) => self
                .act(intent)
                .map(|done| done.reply)
                .map_err(|e| ReplyError::Generation(e.to_string()))?,
            None if self.wants_skill_tools(question, allow) => self.act_by_llm(question, door)?.reply,
            None => self.ask(question, door, allow)?,
        };
        tracing::info!(%answer, "answer");
        self.bus.publish(Event::TurnEnd {
            door: door.name().into(),
            answer: answer.clone(),
        });
        Ok(answer)
    }

    fn ask(&self, question: &str, door: Door, allow: Allow) -> Result<String, ReplyError> {
        let pool = self.engines.llm.as_ref().ok_or(ReplyError::NoLlm)?;
        let context = self.context_for(question, allow).unwrap_or_else(|e| {
            tracing::warn!(error = %format!("{e:#}"), "no memories or notes for this answer");
            TurnContext::default()
        });
        let params = generation_params(&self.config.limits, door, &Requested::default())
            .map_err(|e| ReplyError::Limits(e.to_string()))?;
        let generation = pool.submit(prompt_for(None, question, &context), params)?;
        let answer = whole_text(generation)?;
        let answer = answer.trim();
        Ok(if answer.is_empty() {
            crate::pipeline::FALLBACK_ANSWER.to_string()
        } else {
            answer.to_string()
        })
    }
}

/// A generation's text once it is complete.
pub(super) fn whole_text(mut generation: Generation) -> Result<String, ReplyError> {
    let mut text = String::new();
    while let Some(event) = generation.events.blocking_recv() {
        match event {
            GenerationEvent::Text(piece) => text.push_str(&piece),
            GenerationEvent::Done(Err(e)) => return Err(ReplyError::Generation(e.to_string())),
            GenerationEvent::Done(Ok(_)) => break,
        }
    }
    Ok(text)
}
