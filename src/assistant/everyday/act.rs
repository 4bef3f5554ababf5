//! A skill call as the sandbox takes it: the action and its arguments in
//! the skills' own terms (seconds, Unix milliseconds, a list's name), read
//! from the owner's words by the fast path or the tool layer beforehand.

use serde_json::{Value, json};

use crate::assistant::intents::everyday::SkillCall;

/// `call`'s action and arguments for the skill that offers it.
pub(super) fn sandbox_request(call: SkillCall) -> (&'static str, Value) {
    let action = call.action();
    let args = match call {
        SkillCall::TimerStart { seconds, label } => json!({"seconds": seconds, "label": label}),
        SkillCall::TimerCancel { label } => json!({"label": label.unwrap_or_default()}),
        SkillCall::TimerList | SkillCall::ReminderList => json!({}),
        SkillCall::ReminderAdd { text, due } => json!({
            "text": text,
            "due_ms": due.map(|due| due.timestamp().as_millisecond()),
        }),
        SkillCall::ReminderCancel { about } => json!({"about": about.unwrap_or_default()}),
        SkillCall::ListAdd { list, items } => json!({"list": list, "items": items}),
        SkillCall::ListRead { list } | SkillCall::ListClear { list } => json!({"list": list}),
        SkillCall::ListRemove { list, item } => json!({"list": list, "item": item}),
    };
    (action, args)
}
