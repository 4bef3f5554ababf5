//! A chat request as OpenAI's SDKs send it, checked and turned into the
//! LLM's messages, settings and answer shape.

use hauski_brain::{ChatMessage, ChatRole, GenerationParams};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::api::error::{ApiError, ApiResult};
use crate::api::state::SharedState;
use crate::assistant::Allow;
use crate::assistant::context::{TurnContext, compose, system_prompt};
use crate::assistant::generation::{Door, Requested, generation_params};
use crate::assistant::tools::{self, AnswerShape, ToolCall, ToolChoice, ToolSpec};

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChatRequest {
    /// The loaded LLM's id (`GET /v1/models`).
    pub(super) model: String,
    /// The chat so far, ending with the question (or a tool's result).
    messages: Vec<RequestMessage>,
    /// Answer as server-sent events, ending in `data: [DONE]`.
    #[serde(default)]
    pub(super) stream: bool,
    pub(super) stream_options: Option<StreamOptions>,
    max_tokens: Option<u32>,
    max_completion_tokens: Option<u32>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    seed: Option<i64>,
    stop: Option<Stop>,
    /// Only 1.
    n: Option<u32>,
    /// `text`, `json_object` (any JSON object) or `json_schema` (valid
    /// against its schema); held by grammar sampling, so it always parses.
    response_format: Option<ResponseFormat>,
    /// Functions the model may call; a call comes back as `tool_calls`.
    tools: Option<Vec<RequestTool>>,
    /// `auto` (default), `none`, `required` or `{"type": "function", "function": {"name": …}}`.
    #[schema(value_type = Object)]
    tool_choice: Option<Value>,
    /// HausKI's extension: the owner's notes and memories that fit the question.
    retrieval: Option<Retrieval>,
}

#[derive(Debug, Deserialize, ToSchema)]
struct RequestMessage {
    /// `system`, `developer`, `user`, `assistant` or `tool`.
    role: String,
    #[serde(default)]
    content: Option<Content>,
    /// An assistant message's earlier calls.
    #[serde(default)]
    tool_calls: Option<Vec<RequestToolCall>>,
    /// A `tool` message: the call it answers.
    #[serde(default)]
    tool_call_id: Option<String>,
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
pub(super) struct StreamOptions {
    #[serde(default)]
    pub(super) include_usage: bool,
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

#[derive(Debug, Deserialize, ToSchema)]
struct ResponseFormat {
    /// `text`, `json_object` or `json_schema`.
    #[serde(rename = "type")]
    kind: String,
    json_schema: Option<JsonSchemaFormat>,
}

#[derive(Debug, Deserialize, ToSchema)]
/// `name` and `strict` are accepted and not needed: the grammar holds every
/// answer to the schema.
struct JsonSchemaFormat {
    #[schema(value_type = Object)]
    schema: Option<Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
struct RequestTool {
    /// Only `function`.
    #[serde(rename = "type")]
    kind: String,
    function: FunctionSpec,
}

#[derive(Debug, Deserialize, ToSchema)]
struct FunctionSpec {
    name: String,
    #[serde(default)]
    description: String,
    /// A JSON schema for the arguments; none means an empty object.
    #[schema(value_type = Object)]
    parameters: Option<Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
struct RequestToolCall {
    id: Option<String>,
    function: RequestFunctionCall,
}

#[derive(Debug, Deserialize, ToSchema)]
struct RequestFunctionCall {
    name: String,
    /// The arguments as a JSON string, as OpenAI sends them.
    arguments: String,
}

/// A checked request, ready for the LLM.
pub struct PreparedChat {
    /// The last user message: what the turn answers.
    pub question: String,
    pub messages: Vec<ChatMessage>,
    pub params: GenerationParams,
    /// The memories and notes put into the prompt.
    pub context: TurnContext,
    /// Words, JSON, or possibly a tool call.
    pub shape: AnswerShape,
}

pub(super) async fn prepare(state: &SharedState, request: ChatRequest) -> ApiResult<PreparedChat> {
    if request.n.is_some_and(|n| n != 1) {
        return Err(ApiError::invalid("n", "only n = 1 is supported"));
    }
    let shape = answer_shape(request.response_format, request.tools, request.tool_choice)?;
    let mut messages = chat_messages(request.messages)?;
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
    let mut params = generation_params(&state.config.limits, Door::Api, &requested)
        .map_err(|e| ApiError::invalid(e.param, e.message))?;
    params.grammar = shape.grammar().map_err(|e| {
        let param = if shape.has_tools() {
            "tools"
        } else {
            "response_format"
        };
        ApiError::invalid(param, e.to_string())
    })?;

    let context = retrieved_context(state, request.retrieval.as_ref(), &question).await?;
    // A chat without a system message gets HausKI's, so every door asks
    // the LLM the same way for the same question.
    if !messages.iter().any(|m| m.role == ChatRole::System) {
        messages.insert(0, ChatMessage::new(ChatRole::System, system_prompt(None)));
    }
    tools::instruct(&mut messages, &shape);
    Ok(PreparedChat {
        question,
        messages: compose(messages, &context),
        params,
        context,
        shape,
    })
}

/// The memories and notes the request asked for. A chat reads what it is
/// allowed to; its words never act (no profile switches, no memory writes):
/// it is a question like any other.
async fn retrieved_context(
    state: &SharedState,
    retrieval: Option<&Retrieval>,
    question: &str,
) -> ApiResult<TurnContext> {
    let allow = Allow {
        memories: retrieval.is_some_and(|r| r.memories),
        notes: retrieval.is_some_and(|r| r.notes),
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
    if !allow.memories && !allow.notes {
        return Ok(TurnContext::default());
    }
    let assistant = state.assistant.clone();
    let question = question.to_string();
    tokio::task::spawn_blocking(move || assistant.context_for(&question, allow))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::internal(format!("{e:#}")))
}

/// The request's messages as the LLM's, tool calls and results included.
fn chat_messages(request: Vec<RequestMessage>) -> ApiResult<Vec<ChatMessage>> {
    if request.is_empty() {
        return Err(ApiError::invalid(
            "messages",
            "messages is empty; send at least one user message",
        ));
    }
    let mut messages = Vec::with_capacity(request.len() + 1);
    // Which tool each earlier call id went to, so a result can name it.
    let mut called: Vec<(String, String)> = Vec::new();
    for (i, m) in request.into_iter().enumerate() {
        let content = text_of(i, m.content)?;
        match m.role.as_str() {
            "system" | "developer" => messages.push(ChatMessage::new(ChatRole::System, content)),
            "user" => messages.push(ChatMessage::new(ChatRole::User, content)),
            "assistant" => match m.tool_calls.filter(|c| !c.is_empty()) {
                Some(calls) => {
                    let calls = calls
                        .into_iter()
                        .map(|c| {
                            let arguments = serde_json::from_str(&c.function.arguments).map_err(|e| {
                                ApiError::invalid(
                                    "messages",
                                    format!("messages[{i}].tool_calls: arguments are not JSON ({e})"),
                                )
                            })?;
                            if let Some(id) = c.id {
                                called.push((id, c.function.name.clone()));
                            }
                            Ok(ToolCall {
                                name: c.function.name,
                                arguments,
                            })
                        })
                        .collect::<ApiResult<Vec<_>>>()?;
                    messages.push(tools::call_message(&calls));
                }
                None => messages.push(ChatMessage::new(ChatRole::Assistant, content)),
            },
            "tool" => {
                let tool = m.tool_call_id.and_then(|id| {
                    called
                        .iter()
                        .find(|(known, _)| *known == id)
                        .map(|(_, n)| n.clone())
                });
                messages.push(tools::result_message(tool.as_deref(), &content));
            }
            other => {
                return Err(ApiError::invalid(
                    "messages",
                    format!(
                        "messages[{i}].role {other:?} is not one of system, developer, user, assistant, tool"
                    ),
                ));
            }
        }
    }
    Ok(messages)
}

fn text_of(i: usize, content: Option<Content>) -> ApiResult<String> {
    Ok(match content {
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
    })
}

/// What the answer must look like: `response_format`, or `tools` with `tool_choice`.
fn answer_shape(
    format: Option<ResponseFormat>,
    tools: Option<Vec<RequestTool>>,
    choice: Option<Value>,
) -> ApiResult<AnswerShape> {
    let tools = tools.unwrap_or_default();
    let choice = tool_choice(choice.as_ref())?;
    let format_shape = match format {
        None => AnswerShape::Text,
        Some(f) => match f.kind.as_str() {
            "text" => AnswerShape::Text,
            "json_object" => AnswerShape::Json { schema: None },
            "json_schema" => {
                let schema = f.json_schema.and_then(|s| s.schema);
                let Some(schema) = schema else {
                    return Err(ApiError::invalid(
                        "response_format",
                        "json_schema needs json_schema.schema (a JSON schema object)",
                    ));
                };
                AnswerShape::Json { schema: Some(schema) }
            }
            other => {
                return Err(ApiError::invalid(
                    "response_format",
                    format!("response_format.type {other:?} is not text, json_object or json_schema"),
                ));
            }
        },
    };
    let Some(choice) = choice.filter(|_| !tools.is_empty()) else {
        return Ok(format_shape);
    };
    if format_shape != AnswerShape::Text {
        return Err(ApiError::invalid(
            "response_format",
            "response_format and tools cannot be combined here; send one of them",
        ));
    }
    let specs = tools
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let f = t.function;
            ToolSpec::declared(i, &t.kind, f.name, f.description, f.parameters)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|m| ApiError::invalid("tools", m))?;
    let shape = AnswerShape::Tools { tools: specs, choice };
    shape.check().map_err(|m| ApiError::invalid("tool_choice", m))?;
    Ok(shape)
}

/// `tool_choice`: `None` means no tools (`"none"`).
fn tool_choice(value: Option<&Value>) -> ApiResult<Option<ToolChoice>> {
    let refuse = || {
        ApiError::invalid(
            "tool_choice",
            "tool_choice is \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}",
        )
    };
    match value {
        None => Ok(Some(ToolChoice::Auto)),
        Some(Value::String(s)) => match s.as_str() {
            "auto" => Ok(Some(ToolChoice::Auto)),
            "none" => Ok(None),
            "required" => Ok(Some(ToolChoice::Required)),
            _ => Err(refuse()),
        },
        Some(v) => v
            .pointer("/function/name")
            .and_then(Value::as_str)
            .map(|name| Some(ToolChoice::Named(name.to_string())))
            .ok_or_else(refuse),
    }
}
