//! The everyday skills as tools for the LLM: a request about timers,
//! reminders or lists that the fast path did not catch ("could you count
//! down four minutes for my tea") goes to the LLM with these tools, and the
//! grammar holds its answer to one call, which is carried out like a fast-path one.

use hauski_skills::SkillsPolicy;
use hauski_skills::duration::parse_duration;
use hauski_skills::when::parse_when;
use jiff::ZonedDateTime;
use serde_json::{Value, json};

use crate::assistant::intents::everyday::{DEFAULT_LIST, SkillCall, list_name};
use crate::assistant::tools::ToolSpec;

/// Words that make a request likely to be for a skill: only then does the
/// LLM see the tools (they cost it prompt time on every other question).
const SKILL_WORDS: &[&str] = &[
    "timer",
    "timers",
    "remind",
    "reminder",
    "reminders",
    "list",
    "lists",
    "alarm",
    "countdown",
    "count",
];

/// Whether `text` speaks of timers, reminders or lists at all.
pub fn mentions_skill(text: &str) -> bool {
    crate::assistant::intents::spoken_words(text)
        .split_whitespace()
        .any(|w| SKILL_WORDS.contains(&w))
}

fn tool(name: &str, description: &str, properties: Value, required: &[&str]) -> ToolSpec {
    ToolSpec {
        name: name.into(),
        description: description.into(),
        parameters: json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        }),
    }
}

/// The skills' actions as the LLM sees them: timers, reminders and the
/// clock with arguments in words (read here, in the owner's zone and
/// policy, into the skills' seconds and milliseconds), then every other
/// sandboxed action offered as a tool, with its manifest's schema (the
/// lists skill's and the owner's skills').
pub fn skill_tools(sandboxed: &hauski_skills::host::SkillHost) -> Vec<ToolSpec> {
    let mut tools = worded_tools();
    let worded: Vec<String> = tools.iter().map(|t| t.name.clone()).collect();
    let offered = sandboxed
        .actions()
        .filter(|(_, action)| action.tool && !worded.contains(&action.name));
    tools.extend(offered.map(|(_, action)| ToolSpec {
        name: action.name.clone(),
        description: action.description.clone(),
        parameters: action.parameters.clone(),
    }));
    tools
}

/// The actions whose arguments the LLM gives in words ("4 minutes",
/// "Thursday afternoon"), which the sandbox has no means to read.
fn worded_tools() -> Vec<ToolSpec> {
    let text = |what: &str| json!({"type": "string", "description": what});
    vec![
        tool(
            "timer.start",
            "Start a countdown timer",
            json!({"duration": text("how long, e.g. 10 minutes"), "label": text("what it is for, e.g. pasta; may be empty")}),
            &["duration", "label"],
        ),
        tool(
            "timer.cancel",
            "Cancel a running timer",
            json!({"label": text("which timer; empty for all")}),
            &["label"],
        ),
        tool(
            "timer.list",
            "Say how long the running timers have left",
            json!({}),
            &[],
        ),
        tool(
            "reminder.add",
            "Remind the owner of something at a time",
            json!({"text": text("what to remind of, e.g. to call the dentist"), "when": text("e.g. tomorrow at 7, in 20 minutes, on Thursday afternoon")}),
            &["text", "when"],
        ),
        tool("reminder.list", "Read out the reminders", json!({}), &[]),
        tool(
            "reminder.cancel",
            "Cancel a reminder",
            json!({"about": text("words of the reminder; empty for all")}),
            &["about"],
        ),
        tool("clock.now", "Say the time", json!({}), &[]),
    ]
}

/// What the LLM's call asks for; `Err` says, to the owner, what was unclear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolRequest {
    Skill(SkillCall),
    /// `clock.now`: the clock answers.
    Time,
    /// An action of a sandboxed skill, passed on as the LLM wrote it.
    Sandboxed {
        action: String,
        arguments: Value,
    },
}

/// The call `name(arguments)` as a skill call, its time words read at `now`.
pub fn request_from(
    name: &str,
    arguments: &Value,
    now: &ZonedDateTime,
    policy: &SkillsPolicy,
) -> Result<ToolRequest, String> {
    let arg = |key: &str| {
        arguments
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_lowercase()
    };
    let words = |text: &str| -> Vec<String> {
        crate::assistant::intents::spoken_words(text)
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let optional = |text: String| (!text.is_empty()).then_some(text);
    let call = match name {
        "timer.start" => {
            let duration = words(&arg("duration"));
            let duration: Vec<&str> = duration.iter().map(String::as_str).collect();
            let seconds = parse_duration(&duration).ok_or_else(|| {
                format!(
                    "I didn't get how long the timer should run ({:?}).",
                    arg("duration")
                )
            })?;
            SkillCall::TimerStart {
                seconds,
                label: arg("label"),
            }
        }
        "timer.cancel" => SkillCall::TimerCancel {
            label: optional(arg("label")),
        },
        "timer.list" => SkillCall::TimerList,
        "reminder.add" => {
            let when = words(&arg("when"));
            let when: Vec<&str> = when.iter().map(String::as_str).collect();
            let text = arg("text");
            let text = if text.starts_with("to ") || text.starts_with("about ") {
                text
            } else {
                format!("to {text}")
            };
            SkillCall::ReminderAdd {
                due: Some(
                    parse_when(&when, now, policy)
                        .ok_or_else(|| format!("I didn't get when to remind you ({:?}).", arg("when")))?,
                ),
                text,
            }
        }
        "reminder.list" => SkillCall::ReminderList,
        "reminder.cancel" => SkillCall::ReminderCancel {
            about: optional(arg("about")),
        },
        "clock.now" => return Ok(ToolRequest::Time),
        other => {
            // A list's name as the fast path stores it ("grocery list" is "shopping").
            let mut arguments = arguments.clone();
            if let Some(list) = arguments.get("list").and_then(Value::as_str) {
                let said = words(list);
                let said: Vec<&str> = said.iter().map(String::as_str).collect();
                let said = said.strip_suffix(&["list"]).unwrap_or(&said);
                arguments["list"] = Value::String(if said.is_empty() {
                    DEFAULT_LIST.into()
                } else {
                    list_name(said)
                });
            }
            return Ok(ToolRequest::Sandboxed {
                action: other.to_string(),
                arguments,
            });
        }
    };
    Ok(ToolRequest::Skill(call))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> SkillsPolicy {
        let mut policy: SkillsPolicy =
            serde_yaml::from_str(include_str!("../../../policies/skills.yaml")).expect("the shipped policy");
        policy.time_zone = "Europe/Berlin".into();
        policy
    }

    /// The daemon's skills over a fresh data dir (kept alive beside them).
    fn everyday() -> (tempfile::TempDir, crate::assistant::everyday::Everyday) {
        let dir = tempfile::tempdir().expect("tempdir");
        let places = crate::assistant::everyday::EverydayPlaces {
            store: &dir.path().join("skills.sqlite"),
            audit: &dir.path().join("audit.log"),
            skills_dir: None,
        };
        let clock = std::sync::Arc::new(hauski_brain::memory::ManualClock::new(0));
        let everyday = crate::assistant::everyday::Everyday::open(
            &places,
            policy(),
            clock,
            crate::assistant::bus::Bus::new(),
            None,
        )
        .expect("open");
        (dir, everyday)
    }

    #[test]
    fn every_tool_has_a_schema_the_grammar_accepts_and_a_request() {
        let now: ZonedDateTime = "2026-12-01T14:00:00+01:00[Europe/Berlin]".parse().expect("now");
        let (_dir, everyday) = everyday();
        let tools = skill_tools(everyday.skills());
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert!(
            names.contains(&"list.add") && names.contains(&"timer.start"),
            "{names:?}"
        );
        // Each action once, the hosts' own (the words of a ring) not at all.
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        assert!(!names.contains(&"timer.ring"), "{names:?}");
        let shape = crate::assistant::tools::AnswerShape::Tools {
            tools: tools.clone(),
            choice: crate::assistant::tools::ToolChoice::Required,
        };
        shape.grammar().expect("llama.cpp converts every schema");
        let example = json!({"duration": "4 minutes", "label": "tea", "text": "call the dentist",
            "when": "Thursday afternoon", "about": "", "list": "shopping list", "item": "oat milk"});
        for tool in &tools {
            assert!(
                request_from(&tool.name, &example, &now, &policy()).is_ok(),
                "{}",
                tool.name
            );
        }
        assert_eq!(
            request_from("timer.start", &example, &now, &policy()),
            Ok(ToolRequest::Skill(SkillCall::TimerStart {
                seconds: 240,
                label: "tea".into()
            }))
        );
        let unclear = request_from(
            "reminder.add",
            &json!({"text": "x", "when": "soonish"}),
            &now,
            &policy(),
        );
        assert!(unclear.expect_err("unclear").contains("soonish"));
        assert_eq!(
            request_from(
                "list.add",
                &json!({"list": "grocery list", "items": ["eggs"]}),
                &now,
                &policy()
            ),
            Ok(ToolRequest::Sandboxed {
                action: "list.add".into(),
                arguments: json!({"list": "shopping", "items": ["eggs"]})
            })
        );
    }

    #[test]
    fn only_requests_about_skills_see_the_tools() {
        assert!(mentions_skill("Could you count down four minutes for my tea?"));
        assert!(mentions_skill("Is there anything on my shopping list?"));
        assert!(!mentions_skill("What is the capital of France?"));
    }
}
