//! The keeper of timers and reminders: the SQLite store and the scheduler
//! behind the sandbox's `alarms` capability. The timers and reminders
//! skills decide and word; this desk keeps what they set, in the room it
//! was set in, reads due times into the owner's words and zone (the
//! sandbox has no time-zone database), and wakes the alarm thread.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use hauski_brain::memory::Clock;
use hauski_skills::SkillsPolicy;
use hauski_skills::host::alarms::{Added, AlarmDesk, AlarmRequest, AlarmView, Due};
use hauski_skills::schedule::Scheduler;
use hauski_skills::store::{Alarm, AlarmKind, NewAlarm, SkillStore, StoreError};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};

use super::say;

pub(super) struct Kept {
    pub store: SkillStore,
    pub scheduler: Scheduler,
}

pub(super) struct Desk {
    kept: Mutex<Kept>,
    /// Woken when an alarm is added, cancelled or acknowledged, so the
    /// alarm thread waits for the next due time anew.
    pub changed: Condvar,
    pub policy: SkillsPolicy,
    pub time_zone: TimeZone,
    pub clock: Arc<dyn Clock>,
}

impl Desk {
    pub fn new(store: SkillStore, policy: SkillsPolicy, time_zone: TimeZone, clock: Arc<dyn Clock>) -> Self {
        let scheduler = Scheduler::new(policy.alarms.clone(), clock.now_ms());
        Self {
            kept: Mutex::new(Kept { store, scheduler }),
            changed: Condvar::new(),
            policy,
            time_zone,
            clock,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn zoned(&self, ms: i64) -> ZonedDateTime {
        zoned(ms, &self.time_zone)
    }

    /// `alarm` as a skill sees it at `now`.
    fn view(&self, alarm: &Alarm, now: &ZonedDateTime) -> AlarmView {
        let now_ms = now.timestamp().as_millisecond();
        AlarmView {
            id: alarm.id,
            kind: alarm.kind,
            label: alarm.label.clone(),
            seconds: alarm.seconds,
            due_ms: alarm.due_ms,
            left_s: ((alarm.due_ms - now_ms).max(0) as u64).div_ceil(1000),
            when: say::moment(&self.zoned(alarm.due_ms), now),
        }
    }
}

impl AlarmDesk for Desk {
    fn add(&self, request: &AlarmRequest, room: Option<&str>) -> Result<Added, StoreError> {
        let now_ms = self.clock.now_ms();
        let now = self.zoned(now_ms);
        let longest = self.policy.timers.max_seconds;
        let (due_ms, seconds) = match request.due {
            Due::After { seconds } if seconds > longest => return Ok(Added::TooLong { max_s: longest }),
            Due::After { seconds } => (now_ms.saturating_add(seconds as i64 * 1000), Some(seconds)),
            Due::At { ms } if ms <= now_ms => {
                return Ok(Added::Past {
                    when: say::moment(&self.zoned(ms), &now),
                });
            }
            Due::At { ms } => (ms, None),
        };
        let alarm = self.lock().store.add_alarm(&NewAlarm {
            kind: request.kind,
            label: &request.label,
            seconds,
            due_ms,
            profile: room,
        })?;
        tracing::info!(id = alarm.id, kind = alarm.kind.as_str(), label = %alarm.label, room, "alarm kept");
        self.changed.notify_all();
        Ok(Added::Kept(self.view(&alarm, &now)))
    }

    fn pending(&self, kind: AlarmKind) -> Result<Vec<AlarmView>, StoreError> {
        let now = self.zoned(self.clock.now_ms());
        let pending = self.lock().store.pending(kind)?;
        Ok(pending.iter().map(|alarm| self.view(alarm, &now)).collect())
    }

    fn cancel(&self, ids: &[i64]) -> Result<usize, StoreError> {
        let cancelled = self.lock().store.cancel(ids)?;
        self.changed.notify_all();
        Ok(cancelled)
    }
}

/// Unix milliseconds as a moment in `time_zone`.
pub(super) fn zoned(ms: i64, time_zone: &TimeZone) -> ZonedDateTime {
    Timestamp::from_millisecond(ms)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned_datetime(time_zone.clone())
}
