//! `policies/messages.yaml`: which messengers' messages are read aloud,
//! in which room of the home, and the quiet hours when they wait or are
//! left unsaid.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesPolicy {
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    /// Rules per adapter, by its name ("signal").
    #[serde(default)]
    pub adapters: BTreeMap<String, AdapterRules>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// "22:00"; the span may pass midnight.
    pub from: String,
    pub to: String,
    pub then: QuietThen,
}

/// What becomes of a message in quiet hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuietThen {
    /// Said when quiet hours end.
    Queue,
    /// Left unsaid (logged).
    Drop,
}

/// Whose messages an adapter reads aloud, and where.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdapterRules {
    /// Empty: everyone.
    #[serde(default)]
    pub senders: Vec<String>,
    /// Empty: every room and direct messages; otherwise only these rooms.
    #[serde(default)]
    pub rooms: Vec<String>,
    /// The profile to speak in; none for where answers play.
    #[serde(default)]
    pub profile: Option<String>,
}

/// Minutes since midnight of "HH:MM".
fn minute_of(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

impl QuietHours {
    /// Whether `minute` (since midnight) falls inside; the end is outside.
    pub fn contains(&self, minute: u32) -> bool {
        let (Some(from), Some(to)) = (minute_of(&self.from), minute_of(&self.to)) else {
            return false;
        };
        if from <= to {
            (from..to).contains(&minute)
        } else {
            minute >= from || minute < to
        }
    }

    /// Minutes from `minute` until quiet hours end (0 outside them).
    pub fn minutes_left(&self, minute: u32) -> u32 {
        match minute_of(&self.to) {
            Some(to) if self.contains(minute) => (to + 24 * 60 - minute) % (24 * 60),
            _ => 0,
        }
    }
}

impl MessagesPolicy {
    pub fn validate(&self) -> Result<(), String> {
        if let Some(quiet) = &self.quiet_hours {
            for (name, time) in [("from", &quiet.from), ("to", &quiet.to)] {
                if minute_of(time).is_none() {
                    return Err(format!(
                        "quiet_hours.{name}: {time:?} is not a time such as \"22:00\""
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether `adapter`'s message from `sender` in `room` is read aloud.
    pub fn admits(&self, adapter: &str, sender: &str, room: Option<&str>) -> bool {
        let Some(rules) = self.adapters.get(adapter) else {
            return true;
        };
        let named = |list: &[String], name: &str| list.iter().any(|n| n.eq_ignore_ascii_case(name));
        let sender_ok = rules.senders.is_empty() || named(&rules.senders, sender);
        let room_ok = rules.rooms.is_empty() || room.is_some_and(|r| named(&rules.rooms, r));
        sender_ok && room_ok
    }

    /// The profile `adapter`'s messages are said in, if the policy names one.
    pub fn profile_for(&self, adapter: &str) -> Option<&str> {
        self.adapters.get(adapter)?.profile.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_pass_midnight() {
        let quiet = QuietHours {
            from: "22:00".into(),
            to: "07:00".into(),
            then: QuietThen::Queue,
        };
        assert!(quiet.contains(23 * 60) && quiet.contains(0) && quiet.contains(6 * 60 + 59));
        assert!(!quiet.contains(7 * 60) && !quiet.contains(12 * 60) && !quiet.contains(21 * 60 + 59));
        assert_eq!(quiet.minutes_left(23 * 60), 8 * 60);
        assert_eq!(quiet.minutes_left(6 * 60 + 30), 30);
        assert_eq!(quiet.minutes_left(12 * 60), 0);
    }

    #[test]
    fn senders_and_rooms_choose_what_is_read() {
        let policy: MessagesPolicy = serde_yaml::from_str(
            "adapters: {signal: {senders: [Anna], rooms: [Family], profile: kueche}, telegram: {rooms: [Family]}}",
        )
        .expect("parses");
        assert!(policy.admits("signal", "anna", Some("family")));
        assert!(!policy.admits("signal", "Ben", Some("Family")));
        assert!(!policy.admits("signal", "Anna", None));
        assert!(!policy.admits("telegram", "Ben", None));
        assert!(policy.admits("matrix", "anyone", None));
        assert_eq!(policy.profile_for("signal"), Some("kueche"));
        let shipped: MessagesPolicy =
            serde_yaml::from_str(include_str!("../../policies/messages.yaml")).expect("the shipped policy");
        assert!(shipped.validate().is_ok());
        let bad: MessagesPolicy =
            serde_yaml::from_str("quiet_hours: {from: '25:00', to: '07:00', then: drop}").expect("parses");
        assert!(bad.validate().expect_err("bad time").contains("quiet_hours.from"));
    }
}
