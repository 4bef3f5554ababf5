//! `POST /code/hints`: short remarks anchored to a file's lines, for an
//! editor to show as diagnostics. Two sources: rules that are always right
//! about what they see (an open TODO, `unwrap()` on a Rust path, loose
//! equality in TypeScript, a bare `except:`), found in microseconds; and the
//! LLM's remarks on the file's start, each read back only when it names a
//! line inside the file.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::error::{ApiError, ApiResult};
use super::super::schema::{GenerationErrors, RequestErrors};
use super::super::state::SharedState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HintsRequest {
    /// The file's path in its workspace (`src/main.rs`); its extension
    /// picks the rules when `language` is absent.
    path: String,
    /// The file's text.
    text: String,
    /// VS Code's language id (`rust`, `typescript`, `python`, …).
    #[serde(default)]
    language: Option<String>,
    /// Also ask the LLM (slower); rules only when false.
    #[serde(default = "yes")]
    llm: bool,
}

fn yes() -> bool {
    true
}

/// One remark on lines `start_line..=end_line` (1-based, inside the file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Hint {
    pub start_line: usize,
    pub end_line: usize,
    /// `info` or `warning`.
    pub severity: String,
    pub message: String,
    /// `rule` or `llm`.
    pub source: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Hints {
    pub hints: Vec<Hint>,
}

/// Most hints one file gets back, so a huge file does not flood the editor.
const MOST_HINTS: usize = 50;
/// Longest line before it is remarked on.
const LONG_LINE: usize = 120;

/// `POST /code/hints`: `{"path", "text"}` in, `{"hints": [...]}` out.
#[utoipa::path(post, path = "/code/hints", tag = "editors", request_body = HintsRequest, responses(
    (status = 200, description = "Remarks anchored to line ranges of the file", body = Hints),
    RequestErrors,
    GenerationErrors,
))]
pub async fn hints(
    State(state): State<SharedState>,
    body: Result<Json<HintsRequest>, JsonRejection>,
) -> ApiResult<Json<Hints>> {
    let Json(request) = body?;
    let limit = state.config.limits.editor.hints_max_bytes;
    if request.text.len() > limit {
        return Err(ApiError::invalid(
            "text",
            format!(
                "the file is {} bytes, over the {limit} POST /code/hints reads (editor.hints_max_bytes in policies/limits.yaml)",
                request.text.len()
            ),
        ));
    }
    let language = request
        .language
        .clone()
        .unwrap_or_else(|| language_of(&request.path).to_string());
    let mut found = rule_hints(&request.text, &language);
    if request.llm && state.engines.llm.is_some() {
        let excerpt: String = numbered(&request.text, 60);
        let answer = super::ask(
            &state,
            "You review code. Give at most 3 short remarks, one per line, each as `LINE: remark`.",
            format!("Review {}:\n{excerpt}", request.path),
            120,
        )
        .await?;
        found.extend(llm_hints(&answer, request.text.lines().count()));
    }
    found.truncate(MOST_HINTS);
    Ok(Json(Hints { hints: found }))
}

/// The language a path's extension suggests.
fn language_of(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "rs" => "rust",
        "ts" | "tsx" => "typescript",
        "js" | "jsx" | "mjs" | "cjs" => "javascript",
        "py" => "python",
        _ => "plaintext",
    }
}

/// The first `lines` lines, numbered as the LLM should cite them.
fn numbered(text: &str, lines: usize) -> String {
    text.lines()
        .take(lines)
        .enumerate()
        .map(|(i, line)| format!("{:>3} {line}\n", i + 1))
        .collect()
}

fn hint(line: usize, severity: &str, message: String) -> Hint {
    Hint {
        start_line: line,
        end_line: line,
        severity: severity.into(),
        message,
        source: "rule".into(),
    }
}

/// What the rules see in `text`.
fn rule_hints(text: &str, language: &str) -> Vec<Hint> {
    let mut found = Vec::new();
    let mut previous = "";
    for (i, line) in text.lines().enumerate() {
        let at = i + 1;
        let code = line.trim();
        for marker in ["TODO", "FIXME", "XXX"] {
            if let Some(rest) = code
                .split_once(marker)
                .map(|(_, r)| r.trim_start_matches([':', ' ']))
            {
                let said = if rest.is_empty() {
                    "no reason given".into()
                } else {
                    rest.to_string()
                };
                found.push(hint(at, "info", format!("An open {marker}: {said}")));
                break;
            }
        }
        if line.chars().count() > LONG_LINE {
            found.push(hint(
                at,
                "info",
                format!(
                    "This line is {} characters long; over {LONG_LINE} is hard to read",
                    line.chars().count()
                ),
            ));
        }
        match language {
            "rust" => {
                if code.contains(".unwrap()") && !code.starts_with("//") {
                    found.push(hint(
                        at,
                        "warning",
                        "unwrap() panics on an error; return it with ? or handle it".into(),
                    ));
                }
                if code.contains("unsafe {") && !previous.trim_start().starts_with("// SAFETY:") {
                    found.push(hint(
                        at,
                        "warning",
                        "an unsafe block without a `// SAFETY:` comment above it".into(),
                    ));
                }
            }
            "typescript" | "javascript" => {
                if code.contains("console.log(") {
                    found.push(hint(
                        at,
                        "info",
                        "console.log left in; remove it or use a logger".into(),
                    ));
                }
                if loose_equality(code) {
                    found.push(hint(
                        at,
                        "warning",
                        "== converts types before comparing; use ===".into(),
                    ));
                }
            }
            "python" if code == "except:" || code.starts_with("except: ") => {
                found.push(hint(
                    at,
                    "warning",
                    "a bare except: also catches KeyboardInterrupt; name the exception".into(),
                ));
            }
            _ => {}
        }
        previous = line;
    }
    found
}

/// `a == b` but not `===`, `!==` or `<==`/`>==` forms.
fn loose_equality(code: &str) -> bool {
    let bytes = code.as_bytes();
    (0..bytes.len().saturating_sub(1)).any(|i| {
        bytes[i] == b'='
            && bytes[i + 1] == b'='
            && bytes.get(i + 2) != Some(&b'=')
            && (i == 0 || !matches!(bytes[i - 1], b'=' | b'!' | b'<' | b'>'))
    })
}

/// The LLM's `LINE: remark` lines whose line lies inside a file of `lines` lines.
fn llm_hints(answer: &str, lines: usize) -> Vec<Hint> {
    answer
        .lines()
        .filter_map(|line| {
            let line = line.trim().trim_start_matches(['-', '*', ' ']);
            let line = line
                .strip_prefix("Line")
                .or_else(|| line.strip_prefix("line"))
                .unwrap_or(line);
            let (number, remark) = line.trim_start().split_once(':')?;
            let number: usize = number.trim().parse().ok()?;
            let remark = remark.trim();
            ((1..=lines).contains(&number) && remark.len() >= 3).then(|| Hint {
                start_line: number,
                end_line: number,
                severity: "info".into(),
                message: remark.chars().take(200).collect(),
                source: "llm".into(),
            })
        })
        .take(3)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_find_what_they_look_for_on_the_right_line() {
        let rust =
            "fn main() {\n    // TODO: handle errors\n    let x = read().unwrap();\n    unsafe { go() }\n}\n";
        let found = rule_hints(rust, "rust");
        let at: Vec<(usize, &str)> = found
            .iter()
            .map(|h| (h.start_line, h.severity.as_str()))
            .collect();
        assert_eq!(at, [(2, "info"), (3, "warning"), (4, "warning")]);
        assert_eq!(found[0].message, "An open TODO: handle errors");

        let ts = "if (a == b) {}\nif (a === b) {}\nif (a !== b) {}\nconsole.log(a);\n";
        let lines: Vec<usize> = rule_hints(ts, "typescript")
            .iter()
            .map(|h| h.start_line)
            .collect();
        assert_eq!(lines, [1, 4]);
        assert_eq!(
            rule_hints("try:\n  x()\nexcept:\n  pass\n", "python")[0].start_line,
            3
        );
        assert!(
            rule_hints(&"x".repeat(130), "plaintext")[0]
                .message
                .contains("130")
        );
        assert_eq!(language_of("src/main.rs"), "rust");
    }

    #[test]
    fn llm_remarks_outside_the_file_are_dropped() {
        let answer = "3: name this better\nLine 99: beyond the end\n- 1: fine start\nnonsense\n0: zero\n";
        let found = llm_hints(answer, 10);
        let lines: Vec<usize> = found.iter().map(|h| h.start_line).collect();
        assert_eq!(lines, [3, 1]);
        assert!(found.iter().all(|h| h.source == "llm"));
    }
}
