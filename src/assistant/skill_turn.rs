//! A request about timers, reminders or lists that the fast path missed:
//! the LLM is asked with the skills as tools and must call one (grammar),
//! and the call is carried out like a fast-path one. Only requests that
//! speak of a skill get here (see `everyday::tools::mentions_skill`).

use super::context::{TurnContext, prompt_for};
use super::everyday::tools::{ToolRequest, mentions_skill, request_from, skill_tools};
use super::generation::{Door, Requested, generation_params};
use super::intents::{ClockQuestion, Done, Intent};
use super::reply::ReplyError;
use super::tools::{self, AnswerShape, ToolChoice};
use super::{Allow, Assistant};

impl Assistant {
    /// Whether `question` goes to the LLM with the skills' tools (not as a
    /// plain question): the door acts on intents, the skills are open, and
    /// it speaks of one.
    pub fn wants_skill_tools(&self, question: &str, allow: Allow) -> bool {
        allow.intents && self.everyday.is_some() && self.engines.llm.is_some() && mentions_skill(question)
    }

    /// The LLM's call for `question` among the skills' tools, carried out.
    /// Blocks until the call is generated: call it off the async threads.
    pub fn act_by_llm(&self, question: &str, door: Door) -> Result<Done, ReplyError> {
        let _span = tracing::info_span!("skill_by_llm").entered();
        let pool = self.engines.llm.as_ref().ok_or(ReplyError::NoLlm)?;
        let everyday = self
            .everyday
            .as_ref()
            .ok_or(ReplyError::Generation("the skills are off".into()))?;
        let shape = AnswerShape::Tools {
            tools: skill_tools(everyday.skills()),
            choice: ToolChoice::Required,
        };
        let mut params = generation_params(&self.config.limits, door, &Requested::default())
            .map_err(|e| ReplyError::Limits(e.to_string()))?;
        params.grammar = shape
            .grammar()
            .map_err(|e| ReplyError::Generation(e.to_string()))?;
        let mut messages = prompt_for(None, question, &TurnContext::default());
        tools::instruct(&mut messages, &shape);
        let generated = super::reply::whole_text(pool.submit(messages, params)?)?;
        let Some(call) = shape.read(&generated).call else {
            tracing::warn!(%generated, "the LLM made no skill call");
            return Ok(Done {
                reply: crate::pipeline::FALLBACK_ANSWER.into(),
                change: None,
            });
        };
        tracing::info!(tool = %call.name, arguments = %call.arguments, "the LLM called a skill");
        let intent = match request_from(&call.name, &call.arguments, &everyday.now(), &self.config.skills) {
            Ok(ToolRequest::Skill(skill)) => Intent::Skill(skill),
            Ok(ToolRequest::Time) => Intent::Clock(ClockQuestion::Time),
            Ok(ToolRequest::Sandboxed { action, arguments }) => {
                let reply = match everyday
                    .skills()
                    .call_from(Some(&self.profile.name()), &action, &arguments)
                {
                    Ok(done) => done.reply,
                    Err(e) => {
                        tracing::warn!(error = %e, "the skill call failed");
                        format!("That did not work: {e}.")
                    }
                };
                return Ok(Done {
                    reply,
                    change: Some(action),
                });
            }
            Err(unclear) => {
                return Ok(Done {
                    reply: unclear,
                    change: None,
                });
            }
        };
        self.act(intent)
            .map_err(|e| ReplyError::Generation(e.to_string()))
    }
}
