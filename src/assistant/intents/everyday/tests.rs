//! The fast path's phrasings, as Whisper writes them down.

use jiff::ZonedDateTime;

use super::{SkillCall, parse};

fn policy() -> hauski_skills::SkillsPolicy {
    let mut policy: hauski_skills::SkillsPolicy =
        serde_yaml::from_str(include_str!("../../../../policies/skills.yaml")).expect("the shipped policy");
    policy.time_zone = "Europe/Berlin".into();
    policy
}

/// Tuesday, 2026-12-01, 14:00 in Berlin.
fn tuesday_afternoon() -> ZonedDateTime {
    "2026-12-01T14:00:00+01:00[Europe/Berlin]"
        .parse()
        .expect("a time")
}

fn call(text: &str) -> Option<SkillCall> {
    parse(text, &tuesday_afternoon(), &policy())
}

fn timer(seconds: u64, label: &str) -> Option<SkillCall> {
    Some(SkillCall::TimerStart {
        seconds,
        label: label.into(),
    })
}

#[test]
fn timers() {
    let cases = [
        ("Set a timer for ten minutes.", timer(600, "")),
        ("Set a timer for 10 minutes.", timer(600, "")),
        ("Hey Hauski, set a timer for 3 seconds.", timer(3, "")),
        ("Set a 10-minute pasta timer.", timer(600, "pasta")),
        ("Set a pasta timer for 10 minutes.", timer(600, "pasta")),
        ("Start a timer for an hour and a half.", timer(5400, "")),
        ("Timer for five minutes, please.", timer(300, "")),
        ("A ten minute timer.", timer(600, "")),
        (
            "Set a timer for 20 minutes called laundry.",
            timer(1200, "laundry"),
        ),
        ("Set a timer for the eggs for 7 minutes.", timer(420, "eggs")),
        ("Could you set a timer for half an hour?", timer(1800, "")),
        ("Cancel the timer.", Some(SkillCall::TimerCancel { label: None })),
        (
            "Cancel the pasta timer.",
            Some(SkillCall::TimerCancel {
                label: Some("pasta".into()),
            }),
        ),
        ("Stop all timers.", Some(SkillCall::TimerCancel { label: None })),
        ("How much time is left?", Some(SkillCall::TimerList)),
        (
            "How much time is left on the pasta timer?",
            Some(SkillCall::TimerList),
        ),
        ("What timers are running?", Some(SkillCall::TimerList)),
        ("Do I have any timers?", Some(SkillCall::TimerList)),
        // Near-misses of tiny Whisper's.
        ("Console the timer.", Some(SkillCall::TimerCancel { label: None })),
        ("Time for 20 minutes, please.", timer(1200, "")),
    ];
    for (text, expected) in cases {
        assert_eq!(call(text), expected, "{text}");
    }
}

#[test]
fn reminders() {
    let at = |text: &str| -> ZonedDateTime { text.parse().expect("a time") };
    let reminder = |text: &str, due: &str| {
        Some(SkillCall::ReminderAdd {
            text: text.into(),
            due: Some(at(due)),
        })
    };
    let cases = [
        (
            "Remind me to call the dentist on Thursday afternoon.",
            reminder("to call the dentist", "2026-12-03T15:00:00+01:00[Europe/Berlin]"),
        ),
        (
            "Remind me in 20 minutes to check the oven.",
            reminder("to check the oven", "2026-12-01T14:20:00+01:00[Europe/Berlin]"),
        ),
        (
            "Remind me tomorrow at 7 to take the bins out.",
            reminder("to take the bins out", "2026-12-02T07:00:00+01:00[Europe/Berlin]"),
        ),
        (
            "Remind me to call my mother tomorrow at 6 pm.",
            reminder("to call your mother", "2026-12-02T18:00:00+01:00[Europe/Berlin]"),
        ),
        (
            "Set a reminder for Friday morning to water the plants.",
            reminder("to water the plants", "2026-12-04T09:00:00+01:00[Europe/Berlin]"),
        ),
        (
            "Remind me about the meeting tonight.",
            reminder("about the meeting", "2026-12-01T20:00:00+01:00[Europe/Berlin]"),
        ),
        (
            "Remind me to buy bread.",
            Some(SkillCall::ReminderAdd {
                text: "to buy bread".into(),
                due: None,
            }),
        ),
        ("What reminders do I have?", Some(SkillCall::ReminderList)),
        ("What are my reminders?", Some(SkillCall::ReminderList)),
        (
            "Cancel all reminders.",
            Some(SkillCall::ReminderCancel { about: None }),
        ),
        (
            "Cancel the reminder about the dentist.",
            Some(SkillCall::ReminderCancel {
                about: Some("the dentist".into()),
            }),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(call(text), expected, "{text}");
    }
}

#[test]
fn lists() {
    let add = |list: &str, items: &[&str]| {
        Some(SkillCall::ListAdd {
            list: list.into(),
            items: items.iter().map(|i| i.to_string()).collect(),
        })
    };
    let read = |list: &str| Some(SkillCall::ListRead { list: list.into() });
    let cases = [
        (
            "Put oat milk on the shopping list.",
            add("shopping", &["oat milk"]),
        ),
        (
            "Add eggs and butter to my shopping list.",
            add("shopping", &["eggs", "butter"]),
        ),
        ("Add bread to the grocery list.", add("shopping", &["bread"])),
        ("Put some coffee on the list.", add("shopping", &["coffee"])),
        ("We're out of coffee.", add("shopping", &["coffee"])),
        ("We are out on coffee.", add("shopping", &["coffee"])),
        ("But coffee on the list.", add("shopping", &["coffee"])),
        (
            "Add call the plumber to my to-do list.",
            add("to-do", &["call the plumber"]),
        ),
        ("What's on the shopping list?", read("shopping")),
        ("Read me my shopping list.", read("shopping")),
        ("What do we need?", read("shopping")),
        ("What's on my to-do list?", read("to-do")),
        (
            "Take eggs off the shopping list.",
            Some(SkillCall::ListRemove {
                list: "shopping".into(),
                item: "eggs".into(),
            }),
        ),
        (
            "Remove oat milk from the list.",
            Some(SkillCall::ListRemove {
                list: "shopping".into(),
                item: "oat milk".into(),
            }),
        ),
        (
            "Clear the shopping list.",
            Some(SkillCall::ListClear {
                list: "shopping".into(),
            }),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(call(text), expected, "{text}");
    }
}

#[test]
fn questions_about_these_things_go_to_the_llm() {
    for text in [
        "What is the capital of France?",
        "How long should I boil an egg?",
        "What time is it?",
        "Who invented the kitchen timer?",
        "Set the table.",
        "Remind me.",
        "What is a shopping list?",
        "Tell me a story about a timer.",
        "Switch to the kitchen profile.",
        "Remember that the plumber comes on Tuesday.",
        "But why?",
        "And then what happened?",
        "Time for bed.",
    ] {
        assert_eq!(call(text), None, "{text}");
    }
}
