//! An Ollama chat's messages and answer shape (`format`, `tools`), checked
//! and turned into the LLM's.

use hauski_brain::{ChatMessage, ChatRole};
use serde_json::Value;

use super::{OllamaMessage, OllamaResult, OllamaTool, bad};
use crate::assistant::tools::{self, AnswerShape, ToolCall, ToolChoice, ToolSpec};

/// The request's messages as the LLM's, tool calls and results included.
pub(super) fn chat_messages(request: Vec<OllamaMessage>) -> OllamaResult<Vec<ChatMessage>> {
    let mut messages = Vec::with_capacity(request.len() + 1);
    for (i, m) in request.into_iter().enumerate() {
        let message = match m.role.as_str() {
            "system" => ChatMessage::new(ChatRole::System, m.content),
            "user" => ChatMessage::new(ChatRole::User, m.content),
            "assistant" => match m.tool_calls.filter(|c| !c.is_empty()) {
                Some(calls) => {
                    let calls: Vec<ToolCall> = calls
                        .into_iter()
                        .map(|c| ToolCall {
                            name: c.function.name,
                            arguments: c.function.arguments,
                        })
                        .collect();
                    tools::call_message(&calls)
                }
                None => ChatMessage::new(ChatRole::Assistant, m.content),
            },
            "tool" => tools::result_message(m.tool_name.as_deref(), &m.content),
            other => {
                return Err(bad(format!(
                    "messages[{i}].role {other:?} is not system, user, assistant or tool"
                )));
            }
        };
        messages.push(message);
    }
    Ok(messages)
}

/// What the answer must look like: `format` (`"json"` or a schema), or
/// `tools` (Ollama has no tool choice: the model may always answer in words).
pub(super) fn answer_shape(
    format: Option<Value>,
    tools: Option<Vec<OllamaTool>>,
) -> OllamaResult<AnswerShape> {
    let tools = tools.unwrap_or_default();
    let format_shape = match format {
        None | Some(Value::Null) => AnswerShape::Text,
        Some(Value::String(s)) if s.is_empty() => AnswerShape::Text,
        Some(Value::String(s)) if s == "json" => AnswerShape::Json { schema: None },
        Some(schema @ Value::Object(_)) => AnswerShape::Json { schema: Some(schema) },
        Some(other) => {
            return Err(bad(format!(
                "format is \"json\" or a JSON schema object, not {other}"
            )));
        }
    };
    if tools.is_empty() {
        return Ok(format_shape);
    }
    if format_shape != AnswerShape::Text {
        return Err(bad("format and tools cannot be combined here; send one of them"));
    }
    let specs = tools
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let f = t.function;
            ToolSpec::declared(i, &t.kind, f.name, f.description, f.parameters)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    Ok(AnswerShape::Tools {
        tools: specs,
        choice: ToolChoice::Auto,
    })
}
