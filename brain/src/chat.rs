//! Chat messages (as OpenAI clients send them) turned into one prompt: with the
//! GGUF's own chat template where it has one, else a plain template.

use llama_cpp_2::model::LlamaChatMessage;

use crate::{BrainError, LanguageModel};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatRole {
    System,
    User,
    Assistant,
}

impl ChatRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: ChatRole, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

/// A chat rendered as prompt text.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedChat {
    pub text: String,
    /// Whether the model's own template made it: then its special tokens
    /// (`<start_of_turn>` …) must be parsed as such.
    pub templated: bool,
    /// Stops the template needs beyond the model's end-of-turn token: the plain
    /// template has none, so a base model would run on into the next "User:".
    pub stops: Vec<String>,
}

impl LanguageModel {
    /// Whether the GGUF carries a chat template.
    pub fn has_chat_template(&self) -> bool {
        self.model.chat_template(None).is_ok()
    }

    /// The prompt for `messages`, ending where the assistant's answer begins.
    pub fn render_chat(&self, messages: &[ChatMessage]) -> Result<RenderedChat, BrainError> {
        if !messages
            .iter()
            .any(|m| m.role == ChatRole::User && !m.content.trim().is_empty())
        {
            return Err(BrainError::EmptyPrompt);
        }
        let Ok(template) = self.model.chat_template(None) else {
            return Ok(plain_template(messages));
        };
        let chat = messages
            .iter()
            .map(|m| LlamaChatMessage::new(m.role.as_str().to_string(), m.content.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BrainError::InvalidInput(format!("a message holds a NUL byte: {e}")))?;
        match self.model.apply_chat_template(&template, &chat, true) {
            Ok(text) => Ok(RenderedChat {
                text,
                templated: true,
                stops: Vec::new(),
            }),
            // llama.cpp knows a fixed set of template families; an unknown one
            // is not an error for the caller, just a plainer prompt.
            Err(err) => {
                tracing::warn!(%err, "the model's chat template is not one llama.cpp knows; using a plain template");
                Ok(plain_template(messages))
            }
        }
    }
}

fn plain_template(messages: &[ChatMessage]) -> RenderedChat {
    let mut text = String::new();
    for message in messages {
        let content = message.content.trim();
        match message.role {
            ChatRole::System => {
                text.push_str(content);
                text.push_str("\n\n");
            }
            ChatRole::User => {
                text.push_str("User: ");
                text.push_str(content);
                text.push('\n');
            }
            ChatRole::Assistant => {
                text.push_str("Assistant: ");
                text.push_str(content);
                text.push('\n');
            }
        }
    }
    text.push_str("Assistant:");
    RenderedChat {
        text,
        templated: false,
        stops: vec!["\nUser:".to_string()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_template_ends_where_the_answer_begins() {
        let rendered = plain_template(&[
            ChatMessage::new(ChatRole::System, "Be brief."),
            ChatMessage::new(ChatRole::User, "Hi"),
            ChatMessage::new(ChatRole::Assistant, "Hello."),
            ChatMessage::new(ChatRole::User, "Time?"),
        ]);
        assert_eq!(
            rendered.text,
            "Be brief.\n\nUser: Hi\nAssistant: Hello.\nUser: Time?\nAssistant:"
        );
        assert_eq!(rendered.stops, ["\nUser:"]);
        assert!(!rendered.templated);
    }
}
