//! The skill calls carried out over the store, one function per action,
//! each returning the reply to speak or show.

use hauski_skills::SkillsPolicy;
use hauski_skills::host::SkillHost;
use hauski_skills::store::{Alarm, AlarmKind, NewAlarm, SkillStore, StoreError};
use jiff::ZonedDateTime;
use jiff::tz::TimeZone;
use serde_json::json;

use super::say;
use crate::assistant::intents::everyday::SkillCall;

/// What a call acts in: the store, the moment, the room.
pub(super) struct ActContext<'a> {
    pub store: &'a SkillStore,
    pub now_ms: i64,
    pub now: ZonedDateTime,
    pub profile: &'a str,
    pub policy: &'a SkillsPolicy,
    pub time_zone: &'a TimeZone,
    pub skills: &'a SkillHost,
}

/// The reply, and whether an alarm was added (the alarm thread then looks anew).
pub(super) fn act(turn: &ActContext<'_>, call: SkillCall) -> Result<(String, bool), super::EverydayError> {
    let scheduled = matches!(call, SkillCall::TimerStart { .. } | SkillCall::ReminderAdd { .. });
    let reply = match call {
        SkillCall::TimerStart { seconds, label } => timer_start(turn, seconds, &label)?,
        SkillCall::TimerCancel { label } => timer_cancel(turn, label.as_deref())?,
        SkillCall::TimerList => timer_list(turn)?,
        SkillCall::ReminderAdd { text, due } => reminder_add(turn, &text, due.as_ref())?,
        SkillCall::ReminderList => reminder_list(turn)?,
        SkillCall::ReminderCancel { about } => reminder_cancel(turn, about.as_deref())?,
        // Lists live in the sandboxed lists skill.
        SkillCall::ListAdd { list, items } => {
            turn.skills
                .call("list.add", &json!({"list": list, "items": items}))?
                .reply
        }
        SkillCall::ListRead { list } => turn.skills.call("list.read", &json!({"list": list}))?.reply,
        SkillCall::ListRemove { list, item } => {
            turn.skills
                .call("list.remove", &json!({"list": list, "item": item}))?
                .reply
        }
        SkillCall::ListClear { list } => turn.skills.call("list.clear", &json!({"list": list}))?.reply,
    };
    Ok((reply, scheduled))
}

fn timer_start(turn: &ActContext<'_>, seconds: u64, label: &str) -> Result<String, StoreError> {
    let longest = turn.policy.timers.max_seconds;
    if seconds > longest {
        return Ok(format!(
            "That is longer than I keep a timer: at most {}.",
            say::duration(longest)
        ));
    }
    let alarm = turn.store.add_alarm(&NewAlarm {
        kind: AlarmKind::Timer,
        label,
        seconds: Some(seconds),
        due_ms: turn.now_ms + seconds as i64 * 1000,
        profile: Some(turn.profile),
    })?;
    tracing::info!(id = alarm.id, seconds, %label, "timer set");
    Ok(format!(
        "Okay, a {}, starting now.",
        say::timer_name(label, Some(seconds))
    ))
}

fn timer_cancel(turn: &ActContext<'_>, label: Option<&str>) -> Result<String, StoreError> {
    let timers = turn.store.pending(AlarmKind::Timer)?;
    let chosen = choose(&timers, label, |timer, label| timer.label == label);
    Ok(match chosen.as_slice() {
        [] if timers.is_empty() => "No timer is running.".into(),
        [] => format!("I have no {} timer.", label.unwrap_or_default()),
        [one] => {
            turn.store.cancel(&[one.id])?;
            format!(
                "Okay, I cancelled the {}.",
                say::timer_name(&one.label, one.seconds)
            )
        }
        many => {
            turn.store
                .cancel(&many.iter().map(|a| a.id).collect::<Vec<_>>())?;
            format!("Okay, I cancelled {} timers.", many.len())
        }
    })
}

fn timer_list(turn: &ActContext<'_>) -> Result<String, StoreError> {
    let timers = turn.store.pending(AlarmKind::Timer)?;
    if timers.is_empty() {
        return Ok("No timer is running.".into());
    }
    let left: Vec<String> = timers
        .iter()
        .map(|t| {
            let seconds = ((t.due_ms - turn.now_ms).max(0) as u64).div_ceil(1000);
            // Whole minutes from two minutes up: "9 minutes", not "8 minutes and 47 seconds".
            let seconds = if seconds >= 120 {
                seconds.div_ceil(60) * 60
            } else {
                seconds
            };
            format!(
                "the {} has {} left",
                say::timer_name(&t.label, t.seconds),
                say::duration(seconds)
            )
        })
        .collect();
    Ok(capitalised(&format!("{}.", say::and_list(&left))))
}

fn reminder_add(
    turn: &ActContext<'_>,
    text: &str,
    due: Option<&ZonedDateTime>,
) -> Result<String, StoreError> {
    let Some(due) = due else {
        return Ok(format!(
            "When should I remind you {text}? Say, for example: remind me {text} tomorrow at 9."
        ));
    };
    let due_ms = due.timestamp().as_millisecond();
    if due_ms <= turn.now_ms {
        return Ok(format!(
            "{} has passed already.",
            capitalised(&say::moment(due, &turn.now))
        ));
    }
    let alarm = turn.store.add_alarm(&NewAlarm {
        kind: AlarmKind::Reminder,
        label: text,
        seconds: None,
        due_ms,
        profile: Some(turn.profile),
    })?;
    tracing::info!(id = alarm.id, due = %due, %text, "reminder set");
    Ok(format!(
        "Okay, I'll remind you {text} {}.",
        say::moment(due, &turn.now)
    ))
}

fn reminder_list(turn: &ActContext<'_>) -> Result<String, StoreError> {
    let each: Vec<String> = turn
        .store
        .pending(AlarmKind::Reminder)?
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r.label,
                say::moment(&super::zoned(r.due_ms, turn.time_zone), &turn.now)
            )
        })
        .collect();
    Ok(match each.len() {
        0 => "You have no reminders.".into(),
        1 => format!("You have one reminder: {}.", each[0]),
        n => format!("You have {n} reminders: {}.", say::and_list(&each)),
    })
}

fn reminder_cancel(turn: &ActContext<'_>, about: Option<&str>) -> Result<String, StoreError> {
    let reminders = turn.store.pending(AlarmKind::Reminder)?;
    let chosen = choose(&reminders, about, |r, about| r.label.contains(about));
    Ok(match chosen.as_slice() {
        [] if reminders.is_empty() => "You have no reminders.".into(),
        [] => format!("I have no reminder about {}.", about.unwrap_or_default()),
        [one] => {
            turn.store.cancel(&[one.id])?;
            format!("Okay, I cancelled the reminder {}.", one.label)
        }
        many => {
            turn.store
                .cancel(&many.iter().map(|a| a.id).collect::<Vec<_>>())?;
            format!("Okay, I cancelled {} reminders.", many.len())
        }
    })
}

/// The alarms a cancel means: those `matches` the name given, else all.
fn choose<'a>(
    alarms: &'a [Alarm],
    name: Option<&str>,
    matches: impl Fn(&Alarm, &str) -> bool,
) -> Vec<&'a Alarm> {
    match name {
        Some(name) => alarms.iter().filter(|a| matches(a, name)).collect(),
        None => alarms.iter().collect(),
    }
}

pub(super) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
