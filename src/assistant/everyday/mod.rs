//! Timers, reminders and lists in the daemon: the skill calls carried out
//! (timers and reminders over the SQLite store, lists and the owner's own
//! skills in the WebAssembly sandbox), and the alarm thread that rings what
//! is due on the bus (`hauski.alarm`), where the voice loop sounds it.

mod act;
pub mod say;
pub mod tools;

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use hauski_brain::memory::Clock;
use hauski_skills::SkillsPolicy;
use hauski_skills::host::{HostServices, SkillError, SkillHost};
use hauski_skills::schedule::{Ring, Scheduler};
use hauski_skills::store::{Alarm, AlarmKind, SkillStore, StoreError};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};

use super::bus::{Bus, Event};
use super::intents::everyday::SkillCall;

#[derive(Debug, thiserror::Error)]
pub enum EverydayError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Skill(#[from] SkillError),
    #[error("policies/skills.yaml: {0}")]
    Policy(String),
}

struct Inner {
    store: SkillStore,
    scheduler: Scheduler,
}

/// The everyday skills of one daemon.
pub struct Everyday {
    inner: Mutex<Inner>,
    /// Woken when an alarm is added or acknowledged, so the alarm thread
    /// waits for the next due time anew.
    changed: Condvar,
    policy: SkillsPolicy,
    time_zone: TimeZone,
    clock: Arc<dyn Clock>,
    /// The sandboxed skills: the built-in lists skill and the owner's.
    skills: SkillHost,
}

/// Where the everyday skills keep what they keep.
pub struct EverydayPlaces<'a> {
    /// Timers, reminders and the skills' kv stores (SQLite).
    pub store: &'a Path,
    /// The sandbox's decisions (`audit.log`, a hash chain).
    pub audit: &'a Path,
    /// The owner's skills, one folder each with a `skill.yaml`.
    pub skills_dir: Option<&'a Path>,
}

impl Everyday {
    /// Opens the store and the skills; what was due while the daemon was
    /// down rings at the first check, spoken as missed. A skill of the
    /// owner's that cannot be loaded is logged and left out.
    pub fn open(
        places: &EverydayPlaces<'_>,
        policy: SkillsPolicy,
        clock: Arc<dyn Clock>,
        bus: Bus,
    ) -> Result<Self, EverydayError> {
        let time_zone = policy.time_zone().map_err(EverydayError::Policy)?;
        let store = SkillStore::open(places.store)?;
        let scheduler = Scheduler::new(policy.alarms.clone(), clock.now_ms());
        let skill_clock = clock.clone();
        let services = HostServices {
            clock: Arc::new(move || skill_clock.now_ms()),
            notify: Arc::new(move |skill, text| {
                bus.publish(Event::Notification {
                    sender: skill.to_string(),
                    text: text.to_string(),
                    urgency: super::bus::Urgency::Normal,
                });
            }),
        };
        let mut skills = SkillHost::new(places.store, places.audit, services)?;
        for (manifest, wasm) in hauski_skills::builtin::skills() {
            skills.load(manifest, wasm)?;
        }
        if let Some(dir) = places.skills_dir {
            for problem in skills.load_dir(dir) {
                tracing::warn!(error = %problem, "a skill in {} was left out", dir.display());
            }
        }
        Ok(Self {
            inner: Mutex::new(Inner { store, scheduler }),
            changed: Condvar::new(),
            policy,
            time_zone,
            clock,
            skills,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Now, in the owner's time zone.
    pub fn now(&self) -> ZonedDateTime {
        self.zoned(self.clock.now_ms())
    }

    fn zoned(&self, ms: i64) -> ZonedDateTime {
        zoned(ms, &self.time_zone)
    }

    /// The skill call `text` asks for, if the fast path knows its phrasing.
    pub fn recognise(&self, text: &str) -> Option<SkillCall> {
        super::intents::everyday::parse(text, &self.now(), &self.policy)
    }

    /// Whether an alarm is ringing (so "stop" and "okay" acknowledge it).
    pub fn is_ringing(&self) -> bool {
        self.lock().scheduler.is_ringing()
    }

    /// Stops every ringing alarm; returns how many rang.
    pub fn acknowledge(&self) -> Result<usize, StoreError> {
        let mut inner = self.lock();
        let Inner { store, scheduler } = &mut *inner;
        let count = scheduler.acknowledge(store)?;
        self.changed.notify_all();
        Ok(count)
    }

    /// What rings now: newly due alarms and repeats, as the alarm thread
    /// publishes them.
    pub fn rings_now(&self) -> Result<Vec<Ring>, StoreError> {
        let now = self.clock.now_ms();
        let mut inner = self.lock();
        let Inner { store, scheduler } = &mut *inner;
        scheduler.rings_at(store, now)
    }

    /// Carries out `call` for the owner in `profile`; returns the reply.
    pub fn act(&self, call: SkillCall, profile: &str) -> Result<String, EverydayError> {
        let _span = tracing::info_span!("skill", action = call.action()).entered();
        let inner = self.lock();
        let turn = act::ActContext {
            store: &inner.store,
            now_ms: self.clock.now_ms(),
            now: self.now(),
            profile,
            policy: &self.policy,
            time_zone: &self.time_zone,
            skills: &self.skills,
        };
        let (reply, scheduled) = act::act(&turn, call)?;
        if scheduled {
            self.changed.notify_all();
        }
        Ok(reply)
    }

    /// The items on `list` (the API's `GET /lists/{name}`).
    pub fn list_items(&self, list: &str) -> Result<Vec<String>, SkillError> {
        let read = self
            .skills
            .call("list.read", &serde_json::json!({"list": list}))?;
        Ok(items_of(&read.data))
    }

    /// Adds items to `list`; returns the list after.
    pub fn list_add(&self, list: &str, items: &[String]) -> Result<Vec<String>, SkillError> {
        let added = self
            .skills
            .call("list.add", &serde_json::json!({"list": list, "items": items}))?;
        Ok(items_of(&added.data))
    }

    /// Takes `item` off `list`; `None` when it was not on it, else the list after.
    pub fn list_remove(&self, list: &str, item: &str) -> Result<Option<Vec<String>>, SkillError> {
        let removed = self
            .skills
            .call("list.remove", &serde_json::json!({"list": list, "item": item}))?;
        Ok((removed.data["changed"] == true).then(|| items_of(&removed.data)))
    }

    /// The sandbox, for its actions (offered to the LLM) and calls.
    pub fn skills(&self) -> &SkillHost {
        &self.skills
    }

    /// The sentence a ring speaks.
    pub fn ring_text(&self, ring: &Ring) -> String {
        ring_text(
            &ring.alarm,
            ring.late,
            &self.zoned(ring.alarm.due_ms),
            &self.now(),
        )
    }

    /// Rings what is due on `bus` from a thread of its own, for the
    /// daemon's lifetime: at each due time and repeat, and whenever an
    /// alarm is added or acknowledged.
    pub fn start_ringing(self: &Arc<Self>, bus: Bus) -> std::io::Result<()> {
        let everyday = self.clone();
        std::thread::Builder::new()
            .name("alarms".into())
            .spawn(move || everyday.ring_forever(&bus))?;
        Ok(())
    }

    fn ring_forever(&self, bus: &Bus) {
        // Checked at least this often, so a changed wall clock is noticed.
        const LONGEST_WAIT_MS: i64 = 60_000;
        loop {
            match self.rings_now() {
                Ok(rings) => {
                    for ring in rings {
                        let text = self.ring_text(&ring);
                        tracing::info!(id = ring.alarm.id, ring = ring.ring, late = ring.late, %text, "alarm rings");
                        bus.publish(Event::Alarm {
                            id: ring.alarm.id,
                            kind: ring.alarm.kind.as_str().into(),
                            text,
                            profile: ring.alarm.profile.clone(),
                            ring: ring.ring,
                            late: ring.late,
                        });
                    }
                }
                Err(e) => tracing::error!(error = %e, "the alarms could not be checked"),
            }
            let inner = self.lock();
            let now = self.clock.now_ms();
            let next = inner.scheduler.next_wake_ms(&inner.store).ok().flatten();
            let wait_ms = next.map_or(LONGEST_WAIT_MS, |n| (n - now).clamp(0, LONGEST_WAIT_MS));
            if wait_ms > 0 {
                let _woken = self
                    .changed
                    .wait_timeout(inner, Duration::from_millis(wait_ms as u64))
                    .unwrap_or_else(|p| p.into_inner());
            }
        }
    }
}

/// Unix milliseconds as a moment in `time_zone`.
fn zoned(ms: i64, time_zone: &TimeZone) -> ZonedDateTime {
    Timestamp::from_millisecond(ms)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned_datetime(time_zone.clone())
}

/// A lists skill reply's `items`.
fn items_of(data: &serde_json::Value) -> Vec<String> {
    data["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// "Your 10-minute pasta timer is done.", "This is your reminder to call the
/// dentist.", or, due while the daemon was down, said as missed.
pub fn ring_text(alarm: &Alarm, late: bool, due: &ZonedDateTime, now: &ZonedDateTime) -> String {
    match (alarm.kind, late) {
        (AlarmKind::Timer, false) => {
            format!("Your {} is done.", say::timer_name(&alarm.label, alarm.seconds))
        }
        (AlarmKind::Timer, true) => format!(
            "Your {} finished while I was away.",
            say::timer_name(&alarm.label, alarm.seconds)
        ),
        (AlarmKind::Reminder, false) => format!("This is your reminder {}.", alarm.label),
        (AlarmKind::Reminder, true) => {
            let when = if due.date() == now.date() {
                format!("at {}", say::clock_time(due))
            } else {
                say::moment(due, now).replace("today ", "")
            };
            format!("While I was away, you had a reminder {}, {when}.", alarm.label)
        }
    }
}

#[cfg(test)]
mod tests;
