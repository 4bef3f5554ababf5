//! Timers and reminders on a clock moved by hand: what is stored, when it
//! rings, and what a restart in between changes.

use std::path::Path;
use std::sync::Arc;

use hauski_brain::memory::ManualClock;

use super::{Everyday, EverydayPlaces};
use crate::assistant::bus::Bus;

fn policy() -> hauski_skills::SkillsPolicy {
    let mut policy: hauski_skills::SkillsPolicy =
        serde_yaml::from_str(include_str!("../../../policies/skills.yaml")).expect("the shipped policy");
    policy.time_zone = "Europe/Berlin".into();
    policy
}

fn ms(text: &str) -> i64 {
    text.parse::<jiff::ZonedDateTime>()
        .expect("a time")
        .timestamp()
        .as_millisecond()
}

const TUESDAY_2PM: &str = "2026-12-01T14:00:00+01:00[Europe/Berlin]";
const THURSDAY_3PM: &str = "2026-12-03T15:00:00+01:00[Europe/Berlin]";

/// The skills of a daemon whose data dir is `dir` (timers and lists in
/// `skills.sqlite`, the sandbox's `audit.log`).
fn open(dir: &Path, clock: &Arc<ManualClock>) -> Everyday {
    let places = EverydayPlaces {
        store: &dir.join("skills.sqlite"),
        audit: &dir.join("audit.log"),
        skills_dir: None,
    };
    Everyday::open(&places, policy(), clock.clone(), Bus::new(), None).expect("open")
}

fn say(everyday: &Everyday, text: &str) -> String {
    let call = everyday
        .recognise(text)
        .unwrap_or_else(|| panic!("{text:?} is not on the fast path"));
    everyday.act(call, "wohnzimmer").expect("act")
}

/// "Remind me ... on Thursday afternoon", said on a Tuesday: stored for
/// Thursday 15:00 (the policy's afternoon), rung then, and not before;
/// a restart before then keeps it.
#[test]
fn a_reminder_for_thursday_afternoon_rings_then_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path();
    let clock = Arc::new(ManualClock::new(ms(TUESDAY_2PM)));
    let everyday = open(path, &clock);
    let reply = say(&everyday, "Remind me to call the dentist on Thursday afternoon.");
    assert_eq!(
        reply,
        "Okay, I'll remind you to call the dentist on Thursday at 3 PM."
    );
    assert!(everyday.rings_now().expect("rings").is_empty());
    drop(everyday);

    // Restarted on Wednesday: nothing yet, and then Thursday at 15:00.
    clock.advance_ms(ms("2026-12-02T10:00:00+01:00[Europe/Berlin]") - ms(TUESDAY_2PM));
    let everyday = open(path, &clock);
    assert_eq!(
        say(&everyday, "What reminders do I have?"),
        "You have one reminder: to call the dentist tomorrow at 3 PM."
    );
    clock.advance_ms(ms(THURSDAY_3PM) - clock_now(&clock) - 1);
    assert!(everyday.rings_now().expect("rings").is_empty());
    clock.advance_ms(1);
    let rings = everyday.rings_now().expect("rings");
    assert_eq!(rings.len(), 1);
    assert_eq!(
        everyday.ring_text(&rings[0]),
        "This is your reminder to call the dentist."
    );
    assert!(everyday.is_ringing());
    assert_eq!(everyday.acknowledge().expect("ack"), 1);
    assert!(!everyday.is_ringing());
}

fn clock_now(clock: &ManualClock) -> i64 {
    use hauski_brain::memory::Clock;
    clock.now_ms()
}

/// Down on Thursday afternoon: the reminder is spoken at the next start,
/// as missed.
#[test]
fn a_reminder_due_while_the_daemon_was_down_is_spoken_late() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path();
    let clock = Arc::new(ManualClock::new(ms(TUESDAY_2PM)));
    say(
        &open(path, &clock),
        "Remind me to call the dentist on Thursday afternoon.",
    );
    clock.advance_ms(ms("2026-12-03T18:30:00+01:00[Europe/Berlin]") - ms(TUESDAY_2PM));
    let everyday = open(path, &clock);
    let rings = everyday.rings_now().expect("rings");
    assert_eq!(rings.len(), 1);
    assert!(rings[0].late);
    assert_eq!(
        everyday.ring_text(&rings[0]),
        "While I was away, you had a reminder to call the dentist, at 3 PM."
    );
}

#[test]
fn several_timers_at_once_ring_in_order_and_can_be_cancelled_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(ms(TUESDAY_2PM)));
    let everyday = open(dir.path(), &clock);
    assert_eq!(
        say(&everyday, "Set a pasta timer for 10 minutes."),
        "Okay, a 10-minute pasta timer, starting now."
    );
    assert_eq!(
        say(&everyday, "Set a timer for 3 minutes for the eggs."),
        "Okay, a 3-minute eggs timer, starting now."
    );
    assert_eq!(
        say(&everyday, "Set a timer for 20 minutes called laundry."),
        "Okay, a 20-minute laundry timer, starting now."
    );
    assert_eq!(
        say(&everyday, "Cancel the laundry timer."),
        "Okay, I cancelled the 20-minute laundry timer."
    );
    clock.advance_ms(60_000);
    assert_eq!(
        say(&everyday, "How much time is left?"),
        "The 3-minute eggs timer has 2 minutes left and the 10-minute pasta timer has 9 minutes left."
    );
    clock.advance_ms(120_000);
    let rings = everyday.rings_now().expect("rings");
    assert_eq!(
        rings.iter().map(|r| everyday.ring_text(r)).collect::<Vec<_>>(),
        ["Your 3-minute eggs timer is done."]
    );
    clock.advance_ms(7 * 60_000);
    let rings = everyday.rings_now().expect("rings");
    // The eggs ring again (not acknowledged), the pasta for the first time.
    assert_eq!(
        rings
            .iter()
            .map(|r| (r.alarm.label.as_str(), r.ring))
            .collect::<Vec<_>>(),
        [("eggs", 2), ("pasta", 1)]
    );
    assert_eq!(say(&everyday, "How much time is left?"), "No timer is running.");
}

#[test]
fn lists_by_voice_through_the_sandboxed_skill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(ms(TUESDAY_2PM)));
    let everyday = open(dir.path(), &clock);
    assert_eq!(
        say(&everyday, "Put oat milk on the shopping list."),
        "Okay, I added oat milk to the shopping list."
    );
    assert_eq!(
        say(&everyday, "Add eggs and oat milk to my shopping list."),
        "Okay, I added eggs to the shopping list. Oat milk is on the shopping list already."
    );
    assert_eq!(
        say(&everyday, "What's on the shopping list?"),
        "On the shopping list: oat milk and eggs."
    );
    assert_eq!(
        say(&everyday, "Take eggs off the list."),
        "Okay, I took eggs off the shopping list."
    );
    assert_eq!(
        say(&everyday, "Take eggs off the list."),
        "Eggs is not on the shopping list."
    );
    assert_eq!(everyday.list_items("shopping").expect("items"), ["oat milk"]);
}
