//! "Remind me to call the dentist on Thursday afternoon", "remind me in 20
//! minutes to check the oven", "what reminders do I have?", "cancel the
//! reminder about the dentist".

use hauski_skills::SkillsPolicy;
use hauski_skills::when::parse_when;
use jiff::ZonedDateTime;

use super::{DETERMINERS, SkillCall, strip_any};

pub(super) fn parse(words: &[&str], now: &ZonedDateTime, policy: &SkillsPolicy) -> Option<SkillCall> {
    add(words, now, policy)
        .or_else(|| list(words))
        .or_else(|| cancel(words))
}

const ADD_STARTS: &[&[&str]] = &[
    &["remind", "me"],
    &["remind", "us"],
    &["set", "a", "reminder"],
    &["set", "reminder"],
    &["add", "a", "reminder"],
    &["create", "a", "reminder"],
    &["make", "a", "reminder"],
    &["new", "reminder"],
];

/// What joins the reminder's time and its text.
const CONNECTORS: &[&str] = &["to", "about", "that", "of"];

fn add(words: &[&str], now: &ZonedDateTime, policy: &SkillsPolicy) -> Option<SkillCall> {
    let (rest, asked) = strip_any(words, ADD_STARTS);
    if !asked || rest.is_empty() {
        return None;
    }
    let when = |phrase: &[&str]| parse_when(phrase, now, policy);
    // "... to call the dentist on Thursday afternoon": the longest time phrase at the end.
    if CONNECTORS.contains(&rest[0]) {
        for split in 2..rest.len() {
            if let Some(due) = when(&rest[split..]) {
                return Some(reminder(&rest[..split], Some(due)));
            }
        }
        return (rest.len() > 1).then(|| reminder(rest, None));
    }
    // "... (for) tomorrow at 7 to take the bins out": the time phrase first.
    let (timed, _) = strip_any(rest, &[&["for"]]);
    for split in (1..timed.len()).rev() {
        if CONNECTORS.contains(&timed[split])
            && split + 1 < timed.len()
            && let Some(due) = when(&timed[..split])
        {
            return Some(reminder(&timed[split..], Some(due)));
        }
    }
    None
}

/// The reminder's text as HausKI will say it back, its connector kept so it
/// reads after "your reminder": "to call my mother" is "to call your mother".
fn reminder(words: &[&str], due: Option<ZonedDateTime>) -> SkillCall {
    let text: Vec<&str> = words
        .iter()
        .map(|w| match *w {
            "my" => "your",
            "me" => "you",
            "i" => "you",
            "i'm" => "you're",
            "myself" => "yourself",
            "mine" => "yours",
            w => w,
        })
        .collect();
    SkillCall::ReminderAdd {
        text: text.join(" "),
        due,
    }
}

const LIST_STARTS: &[&[&str]] = &[
    &["what", "reminders"],
    &["which", "reminders"],
    &["what", "are", "my", "reminders"],
    &["what", "are", "the", "reminders"],
    &["list"],
    &["read"],
    &["show", "me"],
    &["show"],
    &["tell", "me"],
    &["do", "i", "have", "any"],
    &["are", "there", "any"],
    &["any"],
];

fn list(words: &[&str]) -> Option<SkillCall> {
    let (rest, asked) = strip_any(words, LIST_STARTS);
    let fine = |w: &&str| {
        matches!(
            *w,
            "my" | "the"
                | "all"
                | "reminder"
                | "reminders"
                | "do"
                | "i"
                | "have"
                | "are"
                | "there"
                | "set"
                | "for"
                | "today"
                | "me"
                | "upcoming"
                | "coming"
                | "up"
        )
    };
    let mentions = words.iter().any(|w| *w == "reminders" || *w == "reminder");
    (asked && mentions && rest.iter().all(fine)).then_some(SkillCall::ReminderList)
}

const CANCEL_VERBS: &[&[&str]] = &[
    &["cancel"],
    &["delete"],
    &["remove"],
    &["clear"],
    &["forget"],
    &["drop"],
];

fn cancel(words: &[&str]) -> Option<SkillCall> {
    let (rest, verb) = strip_any(words, CANCEL_VERBS);
    if !verb {
        return None;
    }
    let all = rest.first() == Some(&"all");
    let (rest, _) = strip_any(rest, DETERMINERS);
    let (rest, noun) = strip_any(rest, &[&["reminders"], &["reminder"]]);
    if !noun {
        return None;
    }
    let (about, _) = strip_any(rest, &[&["to"], &["about"], &["for"], &["that"]]);
    Some(SkillCall::ReminderCancel {
        about: (!all && !about.is_empty()).then(|| about.join(" ")),
    })
}
