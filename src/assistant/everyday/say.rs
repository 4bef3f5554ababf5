//! How moments are put into words in the owner's time zone ("tomorrow at
//! 7 AM"), for the skills, which have no time-zone database. Durations,
//! timers and lists are worded by `hauski_words`, shared with the skills.

use hauski_words::duration;
use jiff::ZonedDateTime;

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
