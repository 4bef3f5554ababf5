//! The fast path to timers, reminders, lists and the clock, said by several
//! espeak-ng voices and heard by the live loop's Whisper: each common
//! phrasing must become its skill call without the LLM, and questions that
//! only mention these things must not.

use crate::common;

use hauski::assistant::Allow;
use hauski::assistant::intents::everyday::parse;
use hauski::assistant::intents::{Intent, recognise};
use hauski_voice::Transcriber;
use jiff::ZonedDateTime;

/// (voice, words per minute, pitch): American, British, and a female
/// variant of the default voice.
const VOICES: &[(&str, u32, u32)] = &[("en-us", 165, 50), ("en-gb", 150, 45), ("en+f3", 160, 65)];

/// What is said, the action it must become, and a word its arguments
/// must hold ("" when the action has none).
const PHRASES: &[(&str, &str, &str)] = &[
    ("Set a timer for ten minutes.", "timer.start", "seconds: 600"),
    ("Set a timer for three seconds.", "timer.start", "seconds: 3,"),
    ("Set a pasta timer for eight minutes.", "timer.start", "pasta"),
    ("Start a timer for half an hour.", "timer.start", "seconds: 1800"),
    ("Set a five minute timer.", "timer.start", "seconds: 300"),
    (
        "Timer for twenty minutes, please.",
        "timer.start",
        "seconds: 1200",
    ),
    ("Cancel the timer.", "timer.cancel", ""),
    ("Cancel the pasta timer.", "timer.cancel", "pasta"),
    ("How much time is left?", "timer.list", ""),
    ("What timers are running?", "timer.list", ""),
    (
        "Remind me to call the dentist on Thursday afternoon.",
        "reminder.add",
        "dentist",
    ),
    (
        "Remind me in twenty minutes to check the oven.",
        "reminder.add",
        "oven",
    ),
    (
        "Remind me tomorrow at seven to take out the bins.",
        "reminder.add",
        "bins",
    ),
    (
        "Remind me to water the plants tomorrow morning.",
        "reminder.add",
        "plants",
    ),
    (
        "Set a reminder for Friday evening to call grandma.",
        "reminder.add",
        "grandma",
    ),
    ("What reminders do I have?", "reminder.list", ""),
    ("What are my reminders?", "reminder.list", ""),
    ("Cancel all reminders.", "reminder.cancel", ""),
    ("Put oat milk on the shopping list.", "list.add", "milk"),
    ("Add eggs to the shopping list.", "list.add", "eggs"),
    ("Add bread and butter to my shopping list.", "list.add", "butter"),
    ("Put coffee on the list.", "list.add", "coffee"),
    ("We're out of coffee.", "list.add", "coffee"),
    ("What's on the shopping list?", "list.read", "shopping"),
    ("Read me my shopping list.", "list.read", "shopping"),
    ("What do we need?", "list.read", "shopping"),
    ("Take eggs off the shopping list.", "list.remove", "eggs"),
    ("Remove bread from the shopping list.", "list.remove", "bread"),
    ("Clear the shopping list.", "list.clear", "shopping"),
    ("What time is it?", "clock.now", ""),
    ("What's the date today?", "clock.date", ""),
    ("What day of the week is it?", "clock.date", ""),
];

/// Questions that mention timers, lists or time and are none of them.
const QUESTIONS: &[&str] = &[
    "What is the capital of France?",
    "How long should I boil an egg?",
    "Who invented the kitchen timer?",
    "What will the weather be like tomorrow?",
    "Tell me a story about a shopping trip.",
];

fn policy() -> hauski_skills::SkillsPolicy {
    let empty = tempfile::tempdir().expect("tempdir");
    hauski::config::Config::load(Some(empty.path()))
        .expect("embedded defaults")
        .skills
}

/// The action `heard` becomes on the fast path, with its arguments.
fn action(
    heard: &str,
    now: &ZonedDateTime,
    policy: &hauski_skills::SkillsPolicy,
) -> Option<(String, String)> {
    if let Some(call) = parse(heard, now, policy) {
        return Some((call.action().to_string(), format!("{call:?}")));
    }
    match recognise(heard, Allow::ALL, None) {
        Some(Intent::Clock(hauski::assistant::intents::ClockQuestion::Time)) => {
            Some(("clock.now".into(), String::new()))
        }
        Some(Intent::Clock(_)) => Some(("clock.date".into(), String::new())),
        _ => None,
    }
}

#[test]
fn common_phrasings_reach_their_skill_without_the_llm() {
    let policy = policy();
    let now = ZonedDateTime::now();
    let model = common::shared_models().join("whisper/ggml-tiny.en-q8_0.bin");
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let whisper = Transcriber::load(&model, threads, "en").expect("whisper model");
    // As the live loop hears: with the words it expects.
    let empty = tempfile::tempdir().expect("tempdir");
    let profiles = hauski::config::Config::load(Some(empty.path()))
        .expect("embedded defaults")
        .profiles;
    whisper.expect_words(&hauski::assistant::intents::expected_words(&profiles));
    let hear = |text: &str, voice: &str, speed: u32, pitch: u32| -> String {
        let samples: Vec<f32> = common::padded(&common::espeak(text, voice, speed, pitch), 0.2)
            .iter()
            .map(|&s| f32::from(s) / 32768.0)
            .collect();
        whisper
            .transcribe_live(&samples, 16_000, None)
            .expect("transcribes")
            .text
    };

    // Right action (the fast path caught the phrasing), and right
    // arguments too (Whisper also heard the item or label).
    let (mut action_right, mut argument_right, mut total, mut to_tools) = (0, 0, 0, 0);
    let mut missed = Vec::new();
    let mut never_right = Vec::new();
    for &(phrase, wanted, argument) in PHRASES {
        let mut right_once = false;
        for &(voice, speed, pitch) in VOICES {
            let heard = hear(phrase, voice, speed, pitch);
            let got = action(&heard, &now, &policy);
            total += 1;
            match &got {
                Some((action, call)) if action == wanted => {
                    action_right += 1;
                    right_once = true;
                    if call.contains(argument) {
                        argument_right += 1;
                    } else {
                        missed.push(format!("{voice}: {phrase:?} heard {heard:?} → arguments {call}"));
                    }
                }
                _ => {
                    // What the fast path misses goes to the LLM with the tools when it names a skill.
                    to_tools += usize::from(hauski::assistant::everyday::tools::mentions_skill(&heard));
                    missed.push(format!("{voice}: {phrase:?} heard {heard:?} → {got:?}"));
                }
            }
        }
        if !right_once {
            never_right.push(phrase);
        }
    }
    for question in QUESTIONS {
        for &(voice, speed, pitch) in VOICES {
            let heard = hear(question, voice, speed, pitch);
            assert_eq!(
                action(&heard, &now, &policy),
                None,
                "{voice}: {question:?} heard {heard:?}"
            );
        }
    }
    eprintln!(
        "fast path: right action {action_right}/{total}, right arguments too {argument_right}/{total} ({} phrasings × {} voices); \
         of the {} missed, {to_tools} go to the LLM with the skills' tools",
        PHRASES.len(),
        VOICES.len(),
        total - action_right
    );
    for m in &missed {
        eprintln!("  missed: {m}");
    }
    assert!(PHRASES.len() >= 30);
    assert!(
        never_right.is_empty(),
        "never the right action in any voice: {never_right:?}"
    );
    assert!(
        action_right * 100 >= total * 75,
        "{action_right}/{total} right (≥ 75 % wanted); missed:\n{}",
        missed.join("\n")
    );
}
