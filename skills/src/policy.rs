//! `policies/skills.yaml`: what "afternoon" means, which "7" "at 7" is, the
//! owner's time zone, and how long an alarm rings.

use std::collections::BTreeMap;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use serde::Deserialize;

/// The skills' policy, as the owner writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillsPolicy {
    /// `system`, or an IANA name such as `Europe/Berlin`.
    pub time_zone: String,
    /// "morning", "afternoon", ...: the time each part of the day stands for.
    pub parts_of_day: BTreeMap<String, Time>,
    /// A day named without a time ("on Thursday").
    pub day_default: Time,
    /// "At 7" without am or pm: the next 7:00 or 19:00 inside these hours.
    pub waking_hours: WakingHours,
    pub timers: TimerPolicy,
    pub alarms: AlarmPolicy,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WakingHours {
    pub from: Time,
    pub to: Time,
}

impl WakingHours {
    pub fn contains(&self, time: Time) -> bool {
        self.from <= time && time <= self.to
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimerPolicy {
    /// The longest timer, in seconds.
    pub max_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmPolicy {
    /// Seconds between rings until the owner says "stop".
    pub repeat_every_s: u64,
    /// Rings before the alarm gives up on its own.
    pub max_rings: u32,
}

impl SkillsPolicy {
    /// The policy's problems, for `hauski config check`.
    pub fn validate(&self) -> Result<(), String> {
        self.time_zone()?;
        if self.waking_hours.from >= self.waking_hours.to {
            return Err("waking_hours.from must come before waking_hours.to".into());
        }
        if self.alarms.max_rings == 0 || self.alarms.repeat_every_s == 0 {
            return Err("alarms.max_rings and alarms.repeat_every_s must be at least 1".into());
        }
        if self.timers.max_seconds == 0 {
            return Err("timers.max_seconds must be at least 1".into());
        }
        Ok(())
    }

    /// The owner's time zone.
    pub fn time_zone(&self) -> Result<TimeZone, String> {
        if self.time_zone == "system" {
            return Ok(TimeZone::try_system().unwrap_or(TimeZone::UTC));
        }
        TimeZone::get(&self.time_zone).map_err(|e| {
            format!(
                "time_zone {:?} is not a time zone this system knows ({e}); use \"system\" or an IANA name such as Europe/Berlin",
                self.time_zone
            )
        })
    }

    /// The time a part of the day ("afternoon") stands for.
    pub fn part_of_day(&self, name: &str) -> Option<Time> {
        self.parts_of_day.get(name).copied()
    }
}
