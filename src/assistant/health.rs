//! What is working right now, per part of the daemon, for `/healthz` and the
//! service manager: a part that is down makes the whole daemon unhealthy
//! (503) until it recovers; a part that is off (no voice loop on a box
//! without PipeWire, no NATS configured) is fine.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

/// The parts `/healthz` reports, in this order.
pub const COMPONENTS: &[&str] = &["engines", "voice_loop", "wake", "api", "bus"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Up,
    Down,
    /// Not used in this daemon (configured off, or nothing to run it on).
    Off,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Component {
    pub state: State,
    /// Why it is down or off; empty when up.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Health {
    components: Mutex<BTreeMap<&'static str, Component>>,
    /// When each looping part last went round (the voice loop per block).
    beats: Mutex<BTreeMap<&'static str, Instant>>,
}

impl Health {
    /// Records a part's state; a change is logged (down at warn level).
    pub fn set(&self, name: &'static str, state: State, reason: impl Into<String>) {
        let reason = reason.into();
        let mut components = self.components.lock().unwrap_or_else(|p| p.into_inner());
        let changed = components.get(name).is_none_or(|c| c.state != state);
        if changed {
            match state {
                State::Down => tracing::warn!(component = name, %reason, "health: down"),
                _ => tracing::info!(component = name, state = ?state, %reason, "health"),
            }
        }
        components.insert(name, Component { state, reason });
    }

    pub fn up(&self, name: &'static str) {
        self.set(name, State::Up, "");
    }

    /// Every known part; one never reported is down ("not started").
    pub fn snapshot(&self) -> BTreeMap<String, Component> {
        let components = self.components.lock().unwrap_or_else(|p| p.into_inner());
        COMPONENTS
            .iter()
            .map(|name| {
                let component = components.get(name).cloned().unwrap_or(Component {
                    state: State::Down,
                    reason: "not started".into(),
                });
                ((*name).to_string(), component)
            })
            .collect()
    }

    /// A looping part went round: it is not stuck.
    pub fn beat(&self, name: &'static str) {
        self.beats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name, Instant::now());
    }

    /// How long ago `name` last went round; `None` if it never did.
    pub fn since_beat(&self, name: &'static str) -> Option<Duration> {
        let beats = self.beats.lock().unwrap_or_else(|p| p.into_inner());
        beats.get(name).map(Instant::elapsed)
    }

    /// Whether `name` is up.
    pub fn is_up(&self, name: &'static str) -> bool {
        let components = self.components.lock().unwrap_or_else(|p| p.into_inner());
        components.get(name).is_some_and(|c| c.state == State::Up)
    }

    /// Whether no part is down.
    pub fn healthy(&self) -> bool {
        self.snapshot().values().all(|c| c.state != State::Down)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_part_down_makes_the_daemon_unhealthy_until_it_recovers() {
        let health = Health::default();
        for name in COMPONENTS {
            health.up(name);
        }
        assert!(health.healthy());
        health.set("bus", State::Off, "no NATS configured");
        assert!(health.healthy(), "off is not down");
        health.set("wake", State::Down, "the wake-word helper exited");
        assert!(!health.healthy());
        assert_eq!(health.snapshot()["wake"].reason, "the wake-word helper exited");
        health.up("wake");
        assert!(health.healthy());
        assert_eq!(health.snapshot().len(), COMPONENTS.len());
    }

    #[test]
    fn a_part_never_reported_counts_as_down() {
        let health = Health::default();
        health.up("api");
        assert!(!health.healthy());
        assert_eq!(health.snapshot()["engines"].reason, "not started");
    }
}
