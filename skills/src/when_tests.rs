//! The time phrases of `when`, as a table: said at a known moment (Tuesday
//! 2026-12-01 14:00 in Berlin), meant as a known moment.

use jiff::ZonedDateTime;

use super::parse_when;
use crate::policy::SkillsPolicy;

fn policy() -> SkillsPolicy {
    let mut policy: SkillsPolicy =
        serde_yaml::from_str(include_str!("../../policies/skills.yaml")).expect("the shipped policy parses");
    policy.time_zone = "Europe/Berlin".into();
    policy.validate().expect("the shipped policy is valid");
    policy
}

fn at(text: &str) -> ZonedDateTime {
    text.parse::<jiff::civil::DateTime>()
        .expect("a civil time")
        .in_tz("Europe/Berlin")
        .expect("Berlin")
}

fn when(said: &str, now: &str) -> Option<String> {
    let words: Vec<&str> = said.split_whitespace().collect();
    parse_when(&words, &at(now), &policy()).map(|z| z.datetime().to_string())
}

const TUESDAY_2PM: &str = "2026-12-01T14:00";

#[test]
fn relative() {
    let cases = [
        ("in 20 minutes", "2026-12-01T14:20:00"),
        ("in twenty minutes", "2026-12-01T14:20:00"),
        ("in an hour", "2026-12-01T15:00:00"),
        ("in an hour and a half", "2026-12-01T15:30:00"),
        ("in 3 seconds", "2026-12-01T14:00:03"),
        ("in 12 hours", "2026-12-02T02:00:00"),
    ];
    for (said, meant) in cases {
        assert_eq!(when(said, TUESDAY_2PM).as_deref(), Some(meant), "{said}");
    }
}

#[test]
fn weekdays_and_parts_of_day() {
    let cases = [
        ("on thursday afternoon", "2026-12-03T15:00:00"),
        ("thursday afternoon", "2026-12-03T15:00:00"),
        ("on thursday", "2026-12-03T09:00:00"),
        ("next monday morning", "2026-12-07T09:00:00"),
        // Said on a Tuesday, "Tuesday" is next week's.
        ("on tuesday", "2026-12-08T09:00:00"),
        ("tomorrow morning", "2026-12-02T09:00:00"),
        ("tomorrow evening", "2026-12-02T19:00:00"),
        ("this evening", "2026-12-01T19:00:00"),
        ("tonight", "2026-12-01T20:00:00"),
        ("in the evening", "2026-12-01T19:00:00"),
        // The morning has passed: tomorrow's.
        ("in the morning", "2026-12-02T09:00:00"),
        ("at noon", "2026-12-02T12:00:00"),
        ("the day after tomorrow", "2026-12-03T09:00:00"),
        ("friday at lunchtime", "2026-12-04T12:30:00"),
    ];
    for (said, meant) in cases {
        assert_eq!(when(said, TUESDAY_2PM).as_deref(), Some(meant), "{said}");
    }
}

#[test]
fn absolute() {
    let cases = [
        ("tomorrow at 7 pm", "2026-12-02T19:00:00"),
        ("tomorrow at 7pm", "2026-12-02T19:00:00"),
        ("tomorrow at 7 p m", "2026-12-02T19:00:00"),
        ("at 6 30 pm", "2026-12-01T18:30:00"),
        ("at 18 45", "2026-12-01T18:45:00"),
        ("at 9 am", "2026-12-02T09:00:00"),
        ("at half past six", "2026-12-01T18:30:00"),
        ("at quarter to 8", "2026-12-01T19:45:00"),
        ("at a quarter past 5", "2026-12-01T17:15:00"),
        ("at 7 o'clock", "2026-12-01T19:00:00"),
        ("on friday at 10 am", "2026-12-04T10:00:00"),
        ("at 8 tomorrow", "2026-12-02T08:00:00"),
        ("at 7 in the evening", "2026-12-01T19:00:00"),
        ("tomorrow morning at 6", "2026-12-02T06:00:00"),
    ];
    for (said, meant) in cases {
        assert_eq!(when(said, TUESDAY_2PM).as_deref(), Some(meant), "{said}");
    }
}

#[test]
fn an_ambiguous_hour_is_the_next_one_in_waking_hours() {
    let cases = [
        // 14:00: 7:00 has passed today, 19:00 has not.
        ("at 7", TUESDAY_2PM, "2026-12-01T19:00:00"),
        // 3 am tomorrow is outside waking hours; 15:00 today is next.
        ("at 3", "2026-12-01T10:00", "2026-12-01T15:00:00"),
        // 20:00: 7:00 tomorrow comes before 19:00 tomorrow.
        ("at 7", "2026-12-01T20:00", "2026-12-02T07:00:00"),
        // A named day: the earlier one inside waking hours.
        ("tomorrow at 7", TUESDAY_2PM, "2026-12-02T07:00:00"),
        ("tomorrow at 2", TUESDAY_2PM, "2026-12-02T14:00:00"),
    ];
    for (said, now, meant) in cases {
        assert_eq!(when(said, now).as_deref(), Some(meant), "{said} at {now}");
    }
}

#[test]
fn other_words_are_not_a_time() {
    for said in [
        "",
        "to call the dentist",
        "thursday to call",
        "at",
        "in",
        "in ten",
        "7",
        "at 25",
        "on thursday on friday",
        "in the kitchen",
    ] {
        assert_eq!(when(said, TUESDAY_2PM), None, "{said:?}");
    }
}
