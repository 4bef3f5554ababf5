//! Messages from the messenger adapters (Telegram, Matrix, Signal), which
//! run sandboxed in the skills host: the core polls each enabled adapter
//! from a thread of its own, and what an adapter hands over passes the
//! owner's rules (`policies/messages.yaml`: who, which room of the home,
//! quiet hours) before it goes on the bus as a notification, where the
//! voice loop reads it aloud behind any answer in progress.

mod egress;
mod polling;
mod settings;

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use hauski_skills::host::{Message, Notifier};

use super::bus::{Bus, Event, Urgency};
use super::notices::Notice;
use crate::config::{MessagesPolicy, QuietThen};
pub use egress::HttpEgress;
pub use polling::start_polling;
pub use settings::{AdapterSettings, AdapterState, SettingsError};

/// Minutes since midnight now, in the owner's time zone.
pub type MinuteNow = Arc<dyn Fn() -> u32 + Send + Sync>;

/// Where adapters' messages go: the rules, then the bus.
pub struct Deliverer {
    policy: MessagesPolicy,
    bus: Bus,
    minute_now: MinuteNow,
    /// Messages that came in quiet hours, said when they end.
    held: Mutex<Vec<Notice>>,
    changed: Condvar,
}

impl Deliverer {
    pub fn new(policy: MessagesPolicy, bus: Bus, minute_now: MinuteNow) -> Self {
        Self {
            policy,
            bus,
            minute_now,
            held: Mutex::default(),
            changed: Condvar::new(),
        }
    }

    /// A skill's message: to the bus now, held for the end of quiet hours,
    /// or left unsaid, as the rules say; every outcome is logged.
    pub fn deliver(&self, from: Notifier<'_>, message: Message) {
        let urgency = match message.urgency.as_deref() {
            Some("high") => Urgency::High,
            Some("low") => Urgency::Low,
            _ => Urgency::Normal,
        };
        let notice = Notice {
            sender: message.sender,
            text: message.text,
            urgency,
            source: Some(from.source.unwrap_or(from.skill).to_string()),
            room: message.room,
            profile: self.policy.profile_for(from.skill).map(str::to_string),
        };
        let _span = tracing::info_span!("message", skill = from.skill, sender = %notice.sender).entered();
        if let Some(problem) = notice.problem() {
            tracing::warn!(%problem, "a message was not read aloud");
            return;
        }
        if !self
            .policy
            .admits(from.skill, &notice.sender, notice.room.as_deref())
        {
            tracing::info!(room = ?notice.room, "not read aloud: policies/messages.yaml does not name this sender or room");
            return;
        }
        let quiet = self
            .policy
            .quiet_hours
            .as_ref()
            .filter(|q| urgency < Urgency::High && q.contains((self.minute_now)()));
        match quiet.map(|q| q.then) {
            None => self.bus.publish(Event::Notification(notice)),
            Some(QuietThen::Drop) => tracing::info!("not read aloud: quiet hours (then: drop)"),
            Some(QuietThen::Queue) => {
                tracing::info!("held until quiet hours end");
                self.held.lock().unwrap_or_else(|p| p.into_inner()).push(notice);
                self.changed.notify_all();
            }
        }
    }

    /// What was held in quiet hours, once they have ended.
    fn take_released(&self) -> Vec<Notice> {
        let quiet = self
            .policy
            .quiet_hours
            .as_ref()
            .is_some_and(|q| q.contains((self.minute_now)()));
        if quiet {
            return Vec::new();
        }
        std::mem::take(&mut *self.held.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Says what was held when quiet hours end, from a thread of its own.
    pub fn start_releasing(self: &Arc<Self>) -> std::io::Result<()> {
        let deliverer = self.clone();
        std::thread::Builder::new()
            .name("quiet-hours".into())
            .spawn(move || {
                loop {
                    for notice in deliverer.take_released() {
                        deliverer.bus.publish(Event::Notification(notice));
                    }
                    // Checked each minute while anything is held; woken when something is.
                    let held = deliverer.held.lock().unwrap_or_else(|p| p.into_inner());
                    let wait = if held.is_empty() { 3600 } else { 60 };
                    drop(
                        deliverer
                            .changed
                            .wait_timeout(held, Duration::from_secs(wait))
                            .unwrap_or_else(|p| p.into_inner()),
                    );
                }
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
