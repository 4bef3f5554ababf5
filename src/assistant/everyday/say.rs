//! How timers, reminders and lists are put into words: durations ("1 hour
//! and 30 minutes"), moments ("tomorrow at 7 AM") and lists ("eggs, oat
//! milk and bread").

use jiff::ZonedDateTime;

/// "10 minutes", "1 hour and 30 minutes", "45 seconds".
pub fn duration(seconds: u64) -> String {
    let parts: Vec<String> = [
        (seconds / 3600, "hour"),
        (seconds % 3600 / 60, "minute"),
        (seconds % 60, "second"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, unit)| format!("{n} {unit}{}", if n == 1 { "" } else { "s" }))
    .collect();
    if parts.is_empty() {
        return "0 seconds".into();
    }
    and_list(&parts)
}

/// "pasta timer" or "timer", with "10-minute" before it when the length is
/// one unit ("a 10-minute pasta timer"), else "for 1 hour and 30 minutes" after.
pub fn timer_name(label: &str, seconds: Option<u64>) -> String {
    let name = if label.is_empty() {
        "timer".to_string()
    } else {
        format!("{label} timer")
    };
    let Some(seconds) = seconds else {
        return name;
    };
    let one_unit = if seconds % 3600 == 0 {
        Some((seconds / 3600, "hour"))
    } else if seconds < 3600 && seconds % 60 == 0 {
        Some((seconds / 60, "minute"))
    } else if seconds < 60 {
        Some((seconds, "second"))
    } else {
        None
    };
    match one_unit {
        Some((count, unit)) => format!("{count}-{unit} {name}"),
        None => format!("{name} for {}", duration(seconds)),
    }
}

/// "eggs", "eggs and bread", "eggs, oat milk and bread".
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// "7 AM", "3:30 PM".
pub fn clock_time(at: &ZonedDateTime) -> String {
    let time = at.strftime("%-I:%M %p").to_string();
    time.replace(":00 ", " ")
}

/// When `at` is, seen from `now`: "in 20 minutes", "today at 7 PM",
/// "tomorrow at 9 AM", "on Thursday at 3 PM", "on December 24 at 9 AM".
pub fn moment(at: &ZonedDateTime, now: &ZonedDateTime) -> String {
    let seconds_ahead = at.timestamp().as_second() - now.timestamp().as_second();
    if (0..3600).contains(&seconds_ahead) {
        let minutes = (seconds_ahead + 30) / 60;
        return if minutes == 0 {
            format!("in {}", duration(seconds_ahead as u64))
        } else {
            format!("in {}", duration(minutes as u64 * 60))
        };
    }
    let days_ahead = (at.date() - now.date()).get_days();
    let day = match days_ahead {
        0 => "today".to_string(),
        1 => "tomorrow".to_string(),
        2..=6 => format!("on {}", at.strftime("%A")),
        _ => format!("on {}", at.strftime("%B %-d")),
    };
    format!("{day} at {}", clock_time(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_timer_names() {
        assert_eq!(duration(600), "10 minutes");
        assert_eq!(duration(5400), "1 hour and 30 minutes");
        assert_eq!(duration(3661), "1 hour, 1 minute and 1 second");
        assert_eq!(timer_name("pasta", Some(600)), "10-minute pasta timer");
        assert_eq!(timer_name("", Some(3)), "3-second timer");
        assert_eq!(timer_name("", Some(7200)), "2-hour timer");
        assert_eq!(timer_name("", Some(90)), "timer for 1 minute and 30 seconds");
        assert_eq!(
            timer_name("roast", Some(5400)),
            "roast timer for 1 hour and 30 minutes"
        );
        assert_eq!(timer_name("pasta", None), "pasta timer");
    }

    #[test]
    fn moments_relative_to_now() {
        let now: ZonedDateTime = "2026-12-01T14:00:00+01:00[Europe/Berlin]".parse().expect("now");
        let at = |text: &str| -> ZonedDateTime { text.parse().expect("a time") };
        assert_eq!(
            moment(&at("2026-12-01T14:20:00+01:00[Europe/Berlin]"), &now),
            "in 20 minutes"
        );
        assert_eq!(
            moment(&at("2026-12-01T19:30:00+01:00[Europe/Berlin]"), &now),
            "today at 7:30 PM"
        );
        assert_eq!(
            moment(&at("2026-12-02T07:00:00+01:00[Europe/Berlin]"), &now),
            "tomorrow at 7 AM"
        );
        assert_eq!(
            moment(&at("2026-12-03T15:00:00+01:00[Europe/Berlin]"), &now),
            "on Thursday at 3 PM"
        );
        assert_eq!(
            moment(&at("2026-12-24T09:00:00+01:00[Europe/Berlin]"), &now),
            "on December 24 at 9 AM"
        );
    }
}
