//! Endpoints for the editor plugins: ideas for an Obsidian canvas, a pull
//! request title and body drafted from a diff (both ask the local LLM),
//! remarks anchored to a file's lines (`hints.rs`), and a comment on recent
//! edits once they add up to enough (`commentary.rs`).

pub mod commentary;
pub mod hints;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use hauski_brain::{ChatMessage, ChatRole};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::chat::collect;
use super::error::{ApiError, ApiResult};
use super::schema::{CanvasEdge, CanvasNode, CanvasSuggestion, GenerationErrors, PrDraft, RequestErrors};
use super::state::SharedState;
use crate::assistant::generation::{Door, Requested, generation_params};
use crate::llm_pool::SubmitError;

/// Asks the LLM one question under `system`; the answer text.
pub(super) async fn ask(
    state: &SharedState,
    system: &str,
    user: String,
    max_tokens: u32,
) -> ApiResult<String> {
    let pool = state
        .engines
        .llm
        .as_ref()
        .ok_or_else(|| ApiError::internal("no LLM is loaded"))?;
    let requested = Requested {
        max_tokens: Some(max_tokens),
        ..Requested::default()
    };
    let params = generation_params(&state.config.limits, Door::Editor, &requested)
        .map_err(|e| ApiError::invalid(e.param, e.message))?;
    let messages = vec![
        ChatMessage::new(ChatRole::System, system),
        ChatMessage::new(ChatRole::User, user),
    ];
    let generation = pool.submit(messages, params).map_err(|e| match e {
        SubmitError::Busy { .. } => ApiError::busy(e.to_string()),
        SubmitError::Stopped => ApiError::internal(e),
    })?;
    let timeout = std::time::Duration::from_millis(state.limits().request_timeout_ms);
    Ok(collect(generation, timeout).await?.text)
}

/// An Obsidian `.canvas` file's JSON, plus how many ideas to add.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Canvas {
    /// The canvas's nodes; text nodes (`type: text`, `id`, `text`) are read.
    nodes: Vec<Value>,
    #[serde(default)]
    edges: Vec<Value>,
    /// How many ideas to add (default 3, at most 8).
    #[serde(default)]
    max_suggestions: Option<usize>,
}

struct TextNode {
    id: String,
    text: String,
    x: f64,
    y: f64,
    width: f64,
}

/// `POST /obsidian/canvas/suggest`: a `.canvas` in, new text nodes and the
/// edges that attach them out (in the canvas's own JSON shape).
#[utoipa::path(post, path = "/obsidian/canvas/suggest", tag = "editors", request_body = Canvas, responses(
    (status = 200, description = "Nodes and edges to add", body = CanvasSuggestion),
    RequestErrors,
    GenerationErrors,
))]
pub async fn canvas_suggest(
    State(state): State<SharedState>,
    body: Result<Json<Canvas>, JsonRejection>,
) -> ApiResult<Json<CanvasSuggestion>> {
    let Json(canvas) = body?;
    let wanted = canvas.max_suggestions.unwrap_or(3);
    if !(1..=8).contains(&wanted) {
        return Err(ApiError::invalid(
            "max_suggestions",
            "max_suggestions must be between 1 and 8",
        ));
    }
    let nodes: Vec<TextNode> = canvas
        .nodes
        .iter()
        .filter(|n| n.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|n| {
            Some(TextNode {
                id: n.get("id")?.as_str()?.to_string(),
                text: n.get("text")?.as_str()?.trim().to_string(),
                x: n.get("x").and_then(Value::as_f64).unwrap_or(0.0),
                y: n.get("y").and_then(Value::as_f64).unwrap_or(0.0),
                width: n.get("width").and_then(Value::as_f64).unwrap_or(250.0),
            })
        })
        .filter(|n| !n.text.is_empty())
        .collect();
    if nodes.is_empty() {
        return Err(ApiError::invalid(
            "nodes",
            "the canvas has no text nodes with an id and text to build on",
        ));
    }
    let listing: String = nodes
        .iter()
        .map(|n| format!("- {}\n", n.text.replace('\n', " ")))
        .collect();
    let answer = ask(
        &state,
        "You help organise an Obsidian canvas. Answer with short new ideas, one per line, no numbering.",
        format!(
            "The canvas holds these notes:\n{listing}\nSuggest {wanted} new notes that extend it, one per line.\
             {} existing connection(s).",
            canvas.edges.len()
        ),
        40 * wanted as u32,
    )
    .await?;
    let ideas = parse_lines(&answer, wanted, &nodes);
    // Each idea goes beside the note it shares most words with, stacked below.
    let mut new_nodes = Vec::new();
    let mut new_edges = Vec::new();
    for (i, idea) in ideas.iter().enumerate() {
        let anchor = nodes
            .iter()
            .max_by_key(|n| shared_words(&n.text, idea))
            .unwrap_or(&nodes[0]);
        let id = format!("hauski-{}-{i}", super::chat::unix_now());
        new_edges.push(CanvasEdge {
            id: format!("{id}-edge"),
            from_node: anchor.id.clone(),
            from_side: "right".into(),
            to_node: id.clone(),
            to_side: "left".into(),
        });
        new_nodes.push(CanvasNode {
            id,
            kind: "text".into(),
            text: idea.clone(),
            x: anchor.x + anchor.width + 80.0,
            y: anchor.y + 140.0 * i as f64,
            width: 250.0,
            height: 60.0,
        });
    }
    Ok(Json(CanvasSuggestion {
        nodes: new_nodes,
        edges: new_edges,
    }))
}

/// The answer's lines as ideas: bullets and numbers stripped, no repeats of
/// what the canvas already says.
fn parse_lines(answer: &str, wanted: usize, nodes: &[TextNode]) -> Vec<String> {
    let mut ideas: Vec<String> = Vec::new();
    for line in answer.lines() {
        let idea = line
            .trim()
            .trim_start_matches(|c: char| {
                c == '-' || c == '*' || c == '•' || c.is_ascii_digit() || c == '.' || c == ')'
            })
            .trim()
            .to_string();
        let known = nodes.iter().any(|n| n.text.eq_ignore_ascii_case(&idea))
            || ideas.iter().any(|i| i.eq_ignore_ascii_case(&idea));
        if idea.len() >= 3 && !known {
            ideas.push(idea);
        }
        if ideas.len() == wanted {
            break;
        }
    }
    ideas
}

fn shared_words(a: &str, b: &str) -> usize {
    let words = |s: &str| -> std::collections::HashSet<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 2)
            .map(str::to_lowercase)
            .collect()
    };
    words(a).intersection(&words(b)).count()
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PrDraftRequest {
    /// A unified diff, as `git diff` prints it.
    diff: String,
}

/// What a unified diff touches, counted without the LLM.
#[derive(Debug, Default, PartialEq)]
struct DiffSummary {
    files: Vec<(String, usize, usize)>,
}

fn summarise_diff(diff: &str) -> DiffSummary {
    let mut summary = DiffSummary::default();
    for line in diff.lines() {
        if let Some(path) = line.strip_prefix("+++ ") {
            let path = path.trim();
            let path = path.strip_prefix("b/").unwrap_or(path);
            summary.files.push((path.to_string(), 0, 0));
        } else if let Some(last) = summary.files.last_mut() {
            if line.starts_with('+') {
                last.1 += 1;
            } else if line.starts_with('-') && !line.starts_with("---") {
                last.2 += 1;
            }
        }
    }
    summary
}

/// `POST /code/pr/draft`: `{"diff": "<unified diff>"}` in, `{"title", "body"}` out.
#[utoipa::path(post, path = "/code/pr/draft", tag = "editors", request_body = PrDraftRequest, responses(
    (status = 200, description = "A title and a body", body = PrDraft),
    RequestErrors,
    GenerationErrors,
))]
pub async fn pr_draft(
    State(state): State<SharedState>,
    body: Result<Json<PrDraftRequest>, JsonRejection>,
) -> ApiResult<Json<PrDraft>> {
    let Json(request) = body?;
    let summary = summarise_diff(&request.diff);
    if summary.files.is_empty() {
        return Err(ApiError::invalid(
            "diff",
            "diff is not a unified diff (no `+++ path` line); send the output of `git diff`",
        ));
    }
    // The prompt carries the start of the diff: the context is 2k tokens.
    let excerpt: String = request.diff.chars().take(3000).collect();
    let answer = ask(
        &state,
        "You write pull request descriptions. First line: a short title in the imperative mood. Then one paragraph saying what changed and why.",
        format!("Describe this change:\n\n{excerpt}"),
        160,
    )
    .await?;
    let mut lines = answer.lines().map(str::trim).filter(|l| !l.is_empty());
    let fallback = format!("Update {}", summary.files[0].0);
    let title = lines
        .next()
        .map(|t| {
            t.trim_start_matches('#')
                .trim_start_matches("Title:")
                .trim()
                .trim_matches('"')
                .to_string()
        })
        .filter(|t| !t.is_empty())
        .unwrap_or(fallback);
    let prose: Vec<&str> = lines.collect();
    let mut body = prose.join("\n");
    body.push_str("\n\n### Files changed\n");
    for (path, added, removed) in &summary.files {
        body.push_str(&format!("- `{path}` (+{added} −{removed})\n"));
    }
    Ok(Json(PrDraft {
        title,
        body: body.trim_start().to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_summary_counts_lines_per_file() {
        let diff = "diff --git a/src/a.rs b/src/a.rs\n--- a/src/a.rs\n+++ b/src/a.rs\n@@ -1,2 +1,2 @@\n-old\n+new\n+more\n";
        assert_eq!(summarise_diff(diff).files, vec![("src/a.rs".to_string(), 2, 1)]);
        assert!(summarise_diff("just words").files.is_empty());
    }

    #[test]
    fn ideas_are_cleaned_and_new() {
        let nodes = vec![TextNode {
            id: "a".into(),
            text: "Buy paint".into(),
            x: 0.0,
            y: 0.0,
            width: 100.0,
        }];
        let ideas = parse_lines("1. Pick colours\n- Buy paint\n* Book a painter\nx\n", 3, &nodes);
        assert_eq!(ideas, ["Pick colours", "Book a painter"]);
    }
}
