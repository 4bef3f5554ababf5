//! Timers, reminders and lists in the daemon: every skill call carried out
//! in the WebAssembly sandbox (the built-in timers, reminders and lists
//! skills, and the owner's), the desk that keeps and schedules the alarms
//! those skills set, and the alarm thread that rings what is due on the bus
//! (`hauski.alarm`), where the voice loop sounds it in the alarm's room.

mod act;
mod desk;
pub mod say;
pub mod tools;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hauski_brain::memory::Clock;
use hauski_skills::SkillsPolicy;
use hauski_skills::host::egress::Egress;
use hauski_skills::host::secrets::SecretReader;
use hauski_skills::host::{HostServices, NotifyFn, SkillError, SkillHost};
use hauski_skills::schedule::Ring;
use hauski_skills::store::{Alarm, AlarmKind, SkillStore, StoreError};
use jiff::ZonedDateTime;
use serde_json::json;

use super::bus::{Bus, Event};
use super::intents::everyday::SkillCall;
use super::messengers::{AdapterSettings, Deliverer};
use crate::config::MessagesPolicy;
use desk::Desk;

#[derive(Debug, thiserror::Error)]
pub enum EverydayError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Skill(#[from] SkillError),
    #[error("policies/skills.yaml: {0}")]
    Policy(String),
}

/// The everyday skills of one daemon.
pub struct Everyday {
    /// Timers and reminders as kept, scheduled and rung by the core.
    desk: Arc<Desk>,
    /// The sandboxed skills: the built-in timers, reminders and lists
    /// skills (over the desk and their kv stores), the messenger
    /// adapters and the owner's.
    skills: SkillHost,
    /// Where skills' and adapters' messages go.
    deliverer: Arc<Deliverer>,
    /// `adapters.yaml` as read at start.
    adapters: AdapterSettings,
}

/// What the daemon lends the messenger adapters: a way out under the
/// routing policy, the vault with their credentials, and the rules their
/// messages follow. Without it the adapters are not loaded.
pub struct Outside {
    pub egress: Arc<dyn Egress>,
    pub secrets: Arc<dyn SecretReader>,
    pub messages: MessagesPolicy,
    /// Which adapters run (`adapters.yaml`): only those are compiled.
    pub adapters: AdapterSettings,
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
        outside: Option<Outside>,
    ) -> Result<Self, EverydayError> {
        let time_zone = policy.time_zone().map_err(EverydayError::Policy)?;
        let desk = Arc::new(Desk::new(
            SkillStore::open(places.store)?,
            policy,
            time_zone,
            clock.clone(),
        ));
        let zoned = desk.clone();
        let deliverer = Arc::new(Deliverer::new(
            outside.as_ref().map(|o| o.messages.clone()).unwrap_or_default(),
            bus,
            Arc::new(move || {
                let now = zoned.zoned(zoned.clock.now_ms());
                (now.hour() as u32) * 60 + now.minute() as u32
            }),
        ));
        let speaks = deliverer.clone();
        let notify: NotifyFn = Arc::new(move |from, message| speaks.deliver(from, message));
        let adapters = outside.as_ref().map(|o| o.adapters.clone()).unwrap_or_default();
        let services = HostServices {
            clock: Arc::new(move || clock.now_ms()),
            notify,
            alarms: Some(desk.clone()),
            egress: outside.as_ref().map(|o| o.egress.clone()),
            secrets: outside.map(|o| o.secrets),
        };
        let mut skills = SkillHost::new(places.store, places.audit, services)?;
        // A built-in adapter is compiled only when it runs (each costs
        // about 0.2 s of the daemon's start).
        for (manifest, wasm) in hauski_skills::builtin::skills() {
            if manifest.adapter.is_none() || adapters.is_enabled(&manifest.name) {
                skills.load(manifest, wasm)?;
            }
        }
        if let Some(dir) = places.skills_dir {
            for problem in skills.load_dir(dir) {
                tracing::warn!(error = %problem, "a skill in {} was left out", dir.display());
            }
        }
        Ok(Self {
            desk,
            skills,
            deliverer,
            adapters,
        })
    }

    /// Which adapters run, and their settings.
    pub fn adapter_settings(&self) -> &AdapterSettings {
        &self.adapters
    }

    /// The rules adapters' messages pass, and the quiet hours' queue.
    pub fn deliverer(&self) -> &Arc<Deliverer> {
        &self.deliverer
    }

    /// Now, in the owner's time zone.
    pub fn now(&self) -> ZonedDateTime {
        self.desk.zoned(self.desk.clock.now_ms())
    }

    /// The skill call `text` asks for, if the fast path knows its phrasing.
    pub fn recognise(&self, text: &str) -> Option<SkillCall> {
        super::intents::everyday::parse(text, &self.now(), &self.desk.policy)
    }

    /// Whether an alarm is ringing (so "stop" and "okay" acknowledge it).
    pub fn is_ringing(&self) -> bool {
        self.desk.lock().scheduler.is_ringing()
    }

    /// Stops every ringing alarm; returns how many rang.
    pub fn acknowledge(&self) -> Result<usize, StoreError> {
        let mut kept = self.desk.lock();
        let desk::Kept { store, scheduler } = &mut *kept;
        let count = scheduler.acknowledge(store)?;
        self.desk.changed.notify_all();
        Ok(count)
    }

    /// What rings now: newly due alarms and repeats, as the alarm thread
    /// publishes them.
    pub fn rings_now(&self) -> Result<Vec<Ring>, StoreError> {
        let now = self.desk.clock.now_ms();
        let mut kept = self.desk.lock();
        let desk::Kept { store, scheduler } = &mut *kept;
        scheduler.rings_at(store, now)
    }

    /// Carries out `call` in its sandboxed skill for the owner in
    /// `profile` (where an alarm it sets rings); returns the reply.
    pub fn act(&self, call: SkillCall, profile: &str) -> Result<String, EverydayError> {
        let (action, args) = act::sandbox_request(call);
        let _span = tracing::info_span!("skill", action).entered();
        Ok(self.skills.call_from(Some(profile), action, &args)?.reply)
    }

    /// The items on `list` (the API's `GET /lists/{name}`).
    pub fn list_items(&self, list: &str) -> Result<Vec<String>, SkillError> {
        let read = self.skills.call("list.read", &json!({"list": list}))?;
        Ok(items_of(&read.data))
    }

    /// Adds items to `list`; returns the list after.
    pub fn list_add(&self, list: &str, items: &[String]) -> Result<Vec<String>, SkillError> {
        let added = self
            .skills
            .call("list.add", &json!({"list": list, "items": items}))?;
        Ok(items_of(&added.data))
    }

    /// Takes `item` off `list`; `None` when it was not on it, else the list after.
    pub fn list_remove(&self, list: &str, item: &str) -> Result<Option<Vec<String>>, SkillError> {
        let removed = self
            .skills
            .call("list.remove", &json!({"list": list, "item": item}))?;
        Ok((removed.data["changed"] == true).then(|| items_of(&removed.data)))
    }

    /// The sandbox, for its actions (offered to the LLM) and calls.
    pub fn skills(&self) -> &SkillHost {
        &self.skills
    }

    /// The sentence a ring speaks, worded by the skill that set it; a
    /// plain sentence of the core's when that skill fails.
    pub fn ring_text(&self, ring: &Ring) -> String {
        let alarm = &ring.alarm;
        let (action, args) = match alarm.kind {
            AlarmKind::Timer => (
                "timer.ring",
                json!({"label": alarm.label, "seconds": alarm.seconds, "late": ring.late}),
            ),
            AlarmKind::Reminder => (
                "reminder.ring",
                json!({"label": alarm.label, "late": ring.late,
                    "when": late_when(&self.desk.zoned(alarm.due_ms), &self.now())}),
            ),
        };
        match self.skills.call_from(alarm.profile.as_deref(), action, &args) {
            Ok(rung) if !rung.reply.is_empty() => rung.reply,
            failed => {
                tracing::warn!(
                    ?failed,
                    "the skill did not word its alarm; the core's words are said"
                );
                plain_ring_text(alarm)
            }
        }
    }

    /// Rings what is due on `bus` from a thread of its own, for the
    /// daemon's lifetime: at each due time and repeat, and whenever an
    /// alarm is added, cancelled or acknowledged.
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
            let kept = self.desk.lock();
            let now = self.desk.clock.now_ms();
            let next = kept.scheduler.next_wake_ms(&kept.store).ok().flatten();
            let wait_ms = next.map_or(LONGEST_WAIT_MS, |n| (n - now).clamp(0, LONGEST_WAIT_MS));
            if wait_ms > 0 {
                let _woken = self
                    .desk
                    .changed
                    .wait_timeout(kept, Duration::from_millis(wait_ms as u64))
                    .unwrap_or_else(|p| p.into_inner());
            }
        }
    }
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

/// When a reminder missed while the daemon was down was due: "at 3 PM"
/// today, else the day too ("on December 3 at 3 PM").
fn late_when(due: &ZonedDateTime, now: &ZonedDateTime) -> String {
    if due.date() == now.date() {
        format!("at {}", say::clock_time(due))
    } else {
        say::moment(due, now).replace("today ", "")
    }
}

/// The core's own words for a ring, should its skill fail.
fn plain_ring_text(alarm: &Alarm) -> String {
    match alarm.kind {
        AlarmKind::Timer => "Your timer is done.".into(),
        AlarmKind::Reminder => format!("This is your reminder {}.", alarm.label),
    }
}

#[cfg(test)]
mod tests;
