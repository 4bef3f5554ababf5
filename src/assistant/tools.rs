//! Structured output and tool calls, shared by OpenAI's chat, Ollama's and
//! the everyday skills offered to the LLM:
//! what the answer must look like ([`AnswerShape`]), the grammar that holds
//! the model to it, and the tool call read back out of the answer.
//!
//! A call is written as `<tool_call>{"name": …, "arguments": {…}}</tool_call>`:
//! the small local models have no tool format of their own, and a tag that
//! ordinary prose never contains lets "auto" mode start the grammar lazily,
//! at the tag, so the model may still answer in words.

use hauski_brain::{BrainError, ChatMessage, ChatRole, OutputGrammar};
use serde_json::{Value, json};

const CALL_OPEN: &str = "<tool_call>";
const CALL_CLOSE: &str = "</tool_call>";

/// A function the model may call, as both APIs declare one.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// A JSON schema for the arguments object.
    pub parameters: Value,
}

impl ToolSpec {
    /// The `i`-th declared tool (`{"type": "function", "function": {…}}` in
    /// both APIs); no parameters mean an empty arguments object. `Err` is the message.
    pub fn declared(
        i: usize,
        kind: &str,
        name: String,
        description: String,
        parameters: Option<Value>,
    ) -> Result<Self, String> {
        if kind != "function" {
            return Err(format!("tools[{i}].type {kind:?} is not function"));
        }
        Ok(Self {
            name,
            description,
            parameters: parameters.unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        })
    }
}

/// Whether the model must call a tool.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolChoice {
    /// It may answer in words or call one (both APIs' default).
    Auto,
    /// It must call one of them.
    Required,
    /// It must call this one.
    Named(String),
}

/// What the answer must look like.
#[derive(Debug, Clone, PartialEq)]
pub enum AnswerShape {
    Text,
    /// One JSON value: any object without a schema, else valid against it.
    Json {
        schema: Option<Value>,
    },
    Tools {
        tools: Vec<ToolSpec>,
        choice: ToolChoice,
    },
}

/// A tool call read out of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub name: String,
    pub arguments: Value,
}

/// An answer split into its words and its tool call, if it made one.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapedAnswer {
    pub text: String,
    pub call: Option<ToolCall>,
}

impl AnswerShape {
    /// The grammar that holds generation to this shape; a schema llama.cpp
    /// cannot convert is the request's fault, and the error says so.
    pub fn grammar(&self) -> Result<Option<OutputGrammar>, BrainError> {
        match self {
            Self::Text => Ok(None),
            Self::Json { schema: None } => OutputGrammar::json_object().map(Some),
            Self::Json { schema: Some(schema) } => OutputGrammar::json_schema(schema).map(Some),
            Self::Tools { tools, choice } => {
                let offered: Vec<&ToolSpec> = match choice {
                    ToolChoice::Named(name) => tools.iter().filter(|t| &t.name == name).collect(),
                    _ => tools.iter().collect(),
                };
                let lazy = *choice == ToolChoice::Auto;
                OutputGrammar::wrapped_json(&call_schema(&offered), CALL_OPEN, CALL_CLOSE, lazy).map(Some)
            }
        }
    }

    /// What the system prompt adds, so the model knows what to fill in
    /// (the grammar alone holds the form, not the meaning).
    pub fn instructions(&self) -> Option<String> {
        match self {
            Self::Text => None,
            Self::Json { schema: None } => Some("Answer with one JSON object and nothing else.".into()),
            Self::Json { schema: Some(schema) } => Some(format!(
                "Answer with one JSON value that matches this JSON schema, and nothing else:\n{schema}"
            )),
            Self::Tools { tools, choice } => {
                let listed: Vec<Value> = tools
                    .iter()
                    .map(
                        |t| json!({"name": t.name, "description": t.description, "parameters": t.parameters}),
                    )
                    .collect();
                let must = match choice {
                    ToolChoice::Auto => "If a tool helps, call it; otherwise answer in words.".to_string(),
                    ToolChoice::Required => "Call one of the tools.".to_string(),
                    ToolChoice::Named(name) => format!("Call the tool {name}."),
                };
                Some(format!(
                    "You can call these tools:\n{}\n{must} To call a tool, answer with only {CALL_OPEN}{{\"name\": \"TOOL\", \"arguments\": {{...}}}}{CALL_CLOSE}.",
                    Value::Array(listed)
                ))
            }
        }
    }

    /// Whether the answer may hold a tool call (then it is read whole, not streamed as words).
    pub fn has_tools(&self) -> bool {
        matches!(self, Self::Tools { .. })
    }

    /// Checks a tool choice names a declared tool: `Err` is the message.
    pub fn check(&self) -> Result<(), String> {
        if let Self::Tools {
            tools,
            choice: ToolChoice::Named(name),
        } = self
            && !tools.iter().any(|t| &t.name == name)
        {
            let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
            return Err(format!(
                "tool_choice names {name:?}, which is not among the tools ({})",
                names.join(", ")
            ));
        }
        Ok(())
    }

    /// The answer's words and its tool call. Text without a complete call
    /// stays text (a call cut off by the token budget is not a call).
    pub fn read(&self, generated: &str) -> ShapedAnswer {
        let words = || ShapedAnswer {
            text: generated.to_string(),
            call: None,
        };
        if !self.has_tools() {
            return words();
        }
        let Some(start) = generated.find(CALL_OPEN) else {
            return words();
        };
        let after = &generated[start + CALL_OPEN.len()..];
        let Some(end) = after.find(CALL_CLOSE) else {
            return words();
        };
        let Ok(call) = serde_json::from_str::<Value>(after[..end].trim()) else {
            return words();
        };
        let (Some(name), Some(arguments)) = (call.get("name").and_then(Value::as_str), call.get("arguments"))
        else {
            return words();
        };
        ShapedAnswer {
            text: generated[..start].trim().to_string(),
            call: Some(ToolCall {
                name: name.to_string(),
                arguments: arguments.clone(),
            }),
        }
    }
}

/// One call to any of `tools`: `{"name": <one of them>, "arguments": <its schema>}`.
fn call_schema(tools: &[&ToolSpec]) -> Value {
    let alternatives: Vec<Value> = tools
        .iter()
        .map(|t| {
            json!({
                "type": "object",
                "properties": {"name": {"const": t.name}, "arguments": t.parameters},
                "required": ["name", "arguments"],
                "additionalProperties": false,
            })
        })
        .collect();
    match <[Value; 1]>::try_from(alternatives) {
        Ok([one]) => one,
        Err(many) => json!({"anyOf": many}),
    }
}

/// A call the assistant made earlier in the chat, as the model wrote it.
pub fn call_message(calls: &[ToolCall]) -> ChatMessage {
    let text = calls
        .iter()
        .map(|c| {
            format!(
                "{CALL_OPEN}{}{CALL_CLOSE}",
                json!({"name": c.name, "arguments": c.arguments})
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    ChatMessage::new(ChatRole::Assistant, text)
}

/// A tool's result, handed to the model as the next user turn (the chat
/// templates of small models know no `tool` role).
pub fn result_message(tool: Option<&str>, content: &str) -> ChatMessage {
    let label = tool.map_or_else(
        || "The tool returned".to_string(),
        |t| format!("The tool {t} returned"),
    );
    ChatMessage::new(ChatRole::User, format!("{label}: {content}"))
}

/// Adds the shape's instructions to the system message (the first one, which
/// every chat has by the time it is shaped).
pub fn instruct(messages: &mut [ChatMessage], shape: &AnswerShape) {
    let Some(extra) = shape.instructions() else {
        return;
    };
    if let Some(system) = messages.iter_mut().find(|m| m.role == ChatRole::System) {
        system.content = format!("{}\n\n{extra}", system.content.trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weather() -> ToolSpec {
        ToolSpec {
            name: "get_weather".into(),
            description: "The weather in a city".into(),
            parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        }
    }

    fn tools(choice: ToolChoice) -> AnswerShape {
        AnswerShape::Tools {
            tools: vec![weather()],
            choice,
        }
    }

    #[test]
    fn a_call_is_read_with_the_words_before_it() {
        let read = tools(ToolChoice::Auto).read(
            r#"Let me look. <tool_call>{"name": "get_weather", "arguments": {"city": "Bonn"}}</tool_call>"#,
        );
        assert_eq!(read.text, "Let me look.");
        assert_eq!(
            read.call,
            Some(ToolCall {
                name: "get_weather".into(),
                arguments: json!({"city": "Bonn"})
            })
        );
    }

    #[test]
    fn words_and_cut_off_calls_stay_words() {
        let shape = tools(ToolChoice::Auto);
        assert_eq!(shape.read("It is sunny.").call, None);
        let cut = r#"<tool_call>{"name": "get_weather", "argu"#;
        assert_eq!(shape.read(cut).text, cut);
        assert_eq!(AnswerShape::Text.read("<tool_call>{}</tool_call>").call, None);
    }

    #[test]
    fn only_auto_is_lazy_and_a_named_tool_must_exist() {
        let auto = tools(ToolChoice::Auto).grammar().expect("grammar").expect("some");
        assert!(auto.trigger.is_some());
        let forced = tools(ToolChoice::Required)
            .grammar()
            .expect("grammar")
            .expect("some");
        assert_eq!(forced.trigger, None);
        assert!(forced.gbnf.contains("get_weather"), "{}", forced.gbnf);
        let unknown = tools(ToolChoice::Named("set_alarm".into()))
            .check()
            .expect_err("unknown tool");
        assert!(unknown.contains("get_weather"), "{unknown}");
        assert_eq!(tools(ToolChoice::Named("get_weather".into())).check(), Ok(()));
    }

    #[test]
    fn the_system_message_learns_the_tools() {
        let mut messages = vec![
            ChatMessage::new(ChatRole::System, "Be brief."),
            ChatMessage::new(ChatRole::User, "Weather in Bonn?"),
        ];
        instruct(&mut messages, &tools(ToolChoice::Required));
        assert!(messages[0].content.starts_with("Be brief."));
        assert!(messages[0].content.contains("get_weather"));
        assert!(messages[0].content.contains(CALL_OPEN));
        assert_eq!(messages[1].content, "Weather in Bonn?");
    }
}
