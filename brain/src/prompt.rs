//! What a turn asks and how the answer may be generated.

use crate::OutputGrammar;

/// One question to the model, under a system prompt that stays the same
/// across turns (and so is served from the prompt cache).
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub system: String,
    pub user: String,
    /// Retrieved notes for this question. They change every turn, so they sit
    /// after the cached system prefix, right before the question.
    pub context: String,
}

impl Turn {
    /// The fixed prefix: evaluated once per conversation.
    pub(crate) fn prefix_text(&self) -> String {
        format!("{}\n\n", self.system.trim())
    }

    /// The per-turn part, in a plain template that base models complete well.
    pub(crate) fn turn_text(&self) -> String {
        let context = self.context.trim();
        if context.is_empty() {
            format!("User: {}\nAssistant:", self.user.trim())
        } else {
            format!("{context}\n\nUser: {}\nAssistant:", self.user.trim())
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GenerationParams {
    /// Most tokens the answer may have.
    pub max_tokens: u32,
    /// 0 means greedy (deterministic) decoding.
    pub temperature: f32,
    pub top_p: f32,
    pub seed: u32,
    /// Generation ends before any of these strings; they are not part of the
    /// answer. The default, a newline, ends a spoken answer at its paragraph:
    /// base models otherwise run on into the next "User:" turn or echo notes.
    pub stop: Vec<String>,
    /// When set, the answer is held to this grammar (structured output, tool calls).
    pub grammar: Option<OutputGrammar>,
}

impl Default for GenerationParams {
    fn default() -> Self {
        Self {
            max_tokens: 128,
            temperature: 0.7,
            top_p: 0.95,
            seed: 42,
            stop: vec!["\n".to_string()],
            grammar: None,
        }
    }
}
