//! `POST /code/commentary`: the editor sends a summary of each edit (how
//! many characters and lines changed, in which file); the daemon adds them
//! up per workspace and, once the change since the last comment crosses a
//! threshold (`editor.commentary_chars` or `editor.commentary_lines` in
//! `policies/limits.yaml`), answers that one edit with a short comment and
//! starts counting afresh. One comment per crossing: the count is reset
//! when the threshold is crossed, before the comment is written, so edits
//! that arrive meanwhile count toward the next.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::{Deserialize, Serialize};
use tracing::Instrument;
use utoipa::ToSchema;

use super::super::error::{ApiError, ApiResult};
use super::super::schema::{GenerationErrors, RequestErrors};
use super::super::state::SharedState;
use crate::assistant::bus::{Event, Urgency};
use crate::assistant::notices::Notice;
use crate::config::policies::EditorLimits;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditSummary {
    /// Which workspace (or window) the edits belong to; each counts on its own.
    #[serde(default = "default_workspace")]
    workspace: String,
    /// The edited file's path in the workspace.
    file: String,
    /// Characters inserted plus characters removed.
    chars_changed: u64,
    /// Lines touched.
    lines_changed: u64,
    /// The changed text, or its start (at most 2000 characters are read).
    #[serde(default)]
    excerpt: String,
    /// Say the comment aloud too, on the active profile.
    #[serde(default)]
    speak: bool,
}

fn default_workspace() -> String {
    "default".into()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Commentary {
    /// A short comment when this edit crossed the threshold; null otherwise.
    pub comment: Option<String>,
    /// Whether the comment was handed to the voice to be said.
    pub spoken: bool,
    /// The change counted toward the next comment, after this edit.
    pub pending_chars: u64,
    pub pending_lines: u64,
    /// The thresholds, from `policies/limits.yaml`.
    pub threshold_chars: u64,
    pub threshold_lines: u64,
}

/// Edits since the last comment, per workspace.
#[derive(Debug, Default)]
pub struct Tally(Mutex<HashMap<String, Pending>>);

#[derive(Debug, Default, Clone)]
struct Pending {
    chars: u64,
    lines: u64,
    files: BTreeSet<String>,
    /// The latest excerpts, newest last, at most a few.
    excerpts: Vec<String>,
}

/// Workspaces one daemon keeps counts for; the oldest is forgotten beyond.
const MOST_WORKSPACES: usize = 64;

impl Tally {
    /// Adds one edit; returns what was gathered when this edit crossed a
    /// threshold (and starts afresh), else `None`.
    fn add(&self, edit: &EditSummary, limits: &EditorLimits) -> (Option<Pending>, u64, u64) {
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if all.len() >= MOST_WORKSPACES && !all.contains_key(&edit.workspace) {
            all.clear();
        }
        let pending = all.entry(edit.workspace.clone()).or_default();
        pending.chars = pending.chars.saturating_add(edit.chars_changed);
        pending.lines = pending.lines.saturating_add(edit.lines_changed);
        pending.files.insert(edit.file.clone());
        if !edit.excerpt.is_empty() {
            pending.excerpts.push(edit.excerpt.chars().take(2000).collect());
            let keep_from = pending.excerpts.len().saturating_sub(3);
            pending.excerpts.drain(..keep_from);
        }
        if pending.chars >= limits.commentary_chars || pending.lines >= limits.commentary_lines {
            (Some(std::mem::take(pending)), 0, 0)
        } else {
            (None, pending.chars, pending.lines)
        }
    }
}

/// `POST /code/commentary`: one edit's summary in; a comment out when the
/// edits since the last one add up to a threshold.
#[utoipa::path(post, path = "/code/commentary", tag = "editors", request_body = EditSummary, responses(
    (status = 200, description = "A comment when this edit crossed the threshold, else null", body = Commentary),
    RequestErrors,
    GenerationErrors,
))]
pub async fn commentary(
    State(state): State<SharedState>,
    body: Result<Json<EditSummary>, JsonRejection>,
) -> ApiResult<Json<Commentary>> {
    let Json(edit) = body?;
    if edit.file.trim().is_empty() {
        return Err(ApiError::invalid(
            "file",
            "file names the edited file; it is empty",
        ));
    }
    let limits = state.config.limits.editor.clone();
    let (crossed, pending_chars, pending_lines) = state.commentary.add(&edit, &limits);
    let mut answer = Commentary {
        comment: None,
        spoken: false,
        pending_chars,
        pending_lines,
        threshold_chars: limits.commentary_chars,
        threshold_lines: limits.commentary_lines,
    };
    let Some(gathered) = crossed else {
        return Ok(Json(answer));
    };
    let span = tracing::info_span!("commentary", workspace = %edit.workspace);
    let comment = comment_on(&state, &gathered).instrument(span).await?;
    tracing::info!(%comment, chars = gathered.chars, lines = gathered.lines, "editor commentary");
    if edit.speak {
        state.bus.publish(Event::Notification(Notice {
            source: Some("your editor".into()),
            ..Notice::from_program("HausKI", &comment, Urgency::Low)
        }));
        answer.spoken = true;
    }
    answer.comment = Some(comment);
    Ok(Json(answer))
}

/// One or two sentences on what `gathered` changed: the LLM's, or the
/// counts in words when no LLM is loaded or it says nothing usable.
async fn comment_on(state: &SharedState, gathered: &Pending) -> ApiResult<String> {
    let files: Vec<&str> = gathered.files.iter().map(String::as_str).collect();
    let plain = format!(
        "You changed {} lines in {}.",
        gathered.lines,
        hauski_words::and_list(&files.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>())
    );
    if state.engines.llm.is_none() {
        return Ok(plain);
    }
    let excerpts = gathered.excerpts.join("\n---\n");
    let answer = super::ask(
        state,
        "You are a pair programmer. In one short sentence, comment on the recent edits: what they do, or one thing to check.",
        format!("Files: {}\nRecent changes:\n{excerpts}", files.join(", ")),
        48,
    )
    .await?;
    let sentence = answer.lines().map(str::trim).find(|l| l.len() >= 8);
    Ok(sentence.map_or(plain, |s| s.chars().take(300).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(chars: u64, lines: u64) -> EditSummary {
        EditSummary {
            workspace: "w".into(),
            file: "src/a.rs".into(),
            chars_changed: chars,
            lines_changed: lines,
            excerpt: String::new(),
            speak: false,
        }
    }

    #[test]
    fn one_crossing_one_comment_and_the_count_starts_afresh() {
        let tally = Tally::default();
        let limits = EditorLimits {
            commentary_chars: 100,
            commentary_lines: 10,
            ..EditorLimits::default()
        };
        let crossings: Vec<bool> = (0..12)
            .map(|_| tally.add(&edit(20, 1), &limits).0.is_some())
            .collect();
        // 20 characters each: the 5th crosses 100, then the 10th.
        let at: Vec<usize> = crossings
            .iter()
            .enumerate()
            .filter(|(_, c)| **c)
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(at, [5, 10]);
        // Lines alone cross too; another workspace counts on its own.
        assert!(tally.add(&edit(1, 10), &limits).0.is_some());
        let other = EditSummary {
            workspace: "v".into(),
            ..edit(99, 9)
        };
        assert!(tally.add(&other, &limits).0.is_none());
    }
}
