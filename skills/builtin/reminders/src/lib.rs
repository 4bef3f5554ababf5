//! The reminders skill: "remind me to call the dentist on Thursday
//! afternoon", "what reminders do I have", "cancel the dentist reminder",
//! and the words a reminder rings with. The host reads the time words in
//! the owner's zone (the sandbox has no time-zone database), keeps,
//! schedules and rings the reminders (`alarms` capability); this skill
//! decides which reminder a request means and what HausKI says.

use hauski_skill_abi::{Answer, alarms, export_skill};
use hauski_words::{and_list, capitalised};
use serde_json::{Value, json};

export_skill!(act);

fn act(action: &str, args: &Value) -> Answer {
    match action {
        "reminder.add" => add(args),
        "reminder.list" => list(),
        "reminder.cancel" => cancel(args["about"].as_str().filter(|a| !a.is_empty())),
        "reminder.ring" => Ok((ring(args), Value::Null)),
        other => Err(format!("the reminders skill has no action {other}")),
    }
}

fn add(args: &Value) -> Answer {
    let text = args["text"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or("reminder.add needs the text to remind of")?;
    let Some(due_ms) = args["due_ms"].as_i64() else {
        return Ok((
            format!("When should I remind you {text}? Say, for example: remind me {text} tomorrow at 9."),
            Value::Null,
        ));
    };
    let added = alarms::add(&json!({"kind": "reminder", "label": text, "due_ms": due_ms}))?;
    let when = added["when"]
        .as_str()
        .or(added["alarm"]["when"].as_str())
        .unwrap_or_default();
    let reply = if added["refused"] == "past" {
        format!("{} has passed already.", capitalised(when))
    } else {
        format!("Okay, I'll remind you {text} {when}.")
    };
    Ok((reply, added))
}

fn list() -> Answer {
    let reminders = alarms::pending("reminder")?;
    let each: Vec<String> = reminders
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["label"].as_str().unwrap_or_default(),
                r["when"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let reply = match each.len() {
        0 => "You have no reminders.".into(),
        1 => format!("You have one reminder: {}.", each[0]),
        n => format!("You have {n} reminders: {}.", and_list(&each)),
    };
    Ok((reply, json!({"reminders": reminders})))
}

fn cancel(about: Option<&str>) -> Answer {
    let reminders = alarms::pending("reminder")?;
    let chosen: Vec<&Value> = reminders
        .iter()
        .filter(|r| about.is_none_or(|a| r["label"].as_str().is_some_and(|l| l.contains(a))))
        .collect();
    let ids: Vec<i64> = chosen.iter().filter_map(|r| r["id"].as_i64()).collect();
    let reply = match chosen.as_slice() {
        [] if reminders.is_empty() => "You have no reminders.".into(),
        [] => format!("I have no reminder about {}.", about.unwrap_or_default()),
        [one] => {
            alarms::cancel(&ids)?;
            format!(
                "Okay, I cancelled the reminder {}.",
                one["label"].as_str().unwrap_or_default()
            )
        }
        many => {
            alarms::cancel(&ids)?;
            format!("Okay, I cancelled {} reminders.", many.len())
        }
    };
    Ok((reply, json!({"cancelled": ids})))
}

/// What a reminder says when it is due; `late` (with `when`, "at 3 PM")
/// when it fell due while HausKI was down.
fn ring(args: &Value) -> String {
    let text = args["label"].as_str().unwrap_or_default();
    if args["late"] == true {
        let when = args["when"].as_str().unwrap_or_default();
        format!("While I was away, you had a reminder {text}, {when}.")
    } else {
        format!("This is your reminder {text}.")
    }
}
