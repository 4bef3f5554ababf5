//! When alarms ring: a due timer or reminder rings at once, then again every
//! `repeat_every_s` until acknowledged or `max_rings` is reached. Pure over
//! the store and a time in milliseconds, so tests drive it with any clock.

use crate::policy::AlarmPolicy;
use crate::store::{Alarm, SkillStore, StoreError};

/// One ring of an alarm, to be sounded and spoken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ring {
    pub alarm: Alarm,
    /// 1 for the first ring.
    pub ring: u32,
    /// Due before this daemon started: it is spoken as missed.
    pub late: bool,
}

#[derive(Debug)]
struct Ringing {
    alarm: Alarm,
    rings: u32,
    next_ring_ms: i64,
    late: bool,
}

/// The alarms ringing now and when each rings next.
#[derive(Debug)]
pub struct Scheduler {
    policy: AlarmPolicy,
    /// When this daemon started, in Unix milliseconds.
    started_ms: i64,
    ringing: Vec<Ringing>,
}

impl Scheduler {
    pub fn new(policy: AlarmPolicy, started_ms: i64) -> Self {
        Self {
            policy,
            started_ms,
            ringing: Vec::new(),
        }
    }

    /// What rings at `now_ms`: alarms newly due, and the next ring of those
    /// not yet acknowledged. An alarm past its last ring is done.
    pub fn rings_at(&mut self, store: &SkillStore, now_ms: i64) -> Result<Vec<Ring>, StoreError> {
        let repeat_ms = self.policy.repeat_every_s as i64 * 1000;
        let mut rings = Vec::new();
        for ringing in &mut self.ringing {
            if ringing.next_ring_ms <= now_ms && ringing.rings < self.policy.max_rings {
                ringing.rings += 1;
                ringing.next_ring_ms = now_ms + repeat_ms;
                rings.push(Ring {
                    alarm: ringing.alarm.clone(),
                    ring: ringing.rings,
                    late: ringing.late,
                });
            }
        }
        // Rung out: the last ring had its full interval to be heard.
        let max_rings = self.policy.max_rings;
        let (over, still): (Vec<_>, Vec<_>) = std::mem::take(&mut self.ringing)
            .into_iter()
            .partition(|r| r.rings >= max_rings && r.next_ring_ms <= now_ms);
        self.ringing = still;
        for done in over {
            tracing::info!(
                id = done.alarm.id,
                rings = done.rings,
                "alarm rang out unanswered"
            );
            store.finish(done.alarm.id)?;
        }
        for alarm in store.take_due(now_ms)? {
            let late = alarm.due_ms < self.started_ms;
            rings.push(Ring {
                alarm: alarm.clone(),
                ring: 1,
                late,
            });
            self.ringing.push(Ringing {
                alarm,
                rings: 1,
                next_ring_ms: now_ms + repeat_ms,
                late,
            });
        }
        Ok(rings)
    }

    /// When `rings_at` next has something to do.
    pub fn next_wake_ms(&self, store: &SkillStore) -> Result<Option<i64>, StoreError> {
        let next_ring = self.ringing.iter().map(|r| r.next_ring_ms).min();
        let next_due = store.next_due_ms()?;
        Ok(next_ring.into_iter().chain(next_due).min())
    }

    pub fn is_ringing(&self) -> bool {
        !self.ringing.is_empty()
    }

    /// "Stop", "okay": every ringing alarm is done; returns how many rang.
    pub fn acknowledge(&mut self, store: &SkillStore) -> Result<usize, StoreError> {
        let count = self.ringing.len();
        self.ringing.clear();
        store.finish_ringing()?;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AlarmKind, NewAlarm};

    const POLICY: AlarmPolicy = AlarmPolicy {
        repeat_every_s: 10,
        max_rings: 3,
    };

    fn store_with_timer(due_ms: i64) -> SkillStore {
        let store = SkillStore::open(std::path::Path::new(":memory:")).expect("open");
        store
            .add_alarm(&NewAlarm {
                kind: AlarmKind::Timer,
                label: "pasta",
                seconds: Some(600),
                due_ms,
                profile: None,
            })
            .expect("add");
        store
    }

    #[test]
    fn an_alarm_rings_until_acknowledged() {
        let store = store_with_timer(1_000);
        let mut scheduler = Scheduler::new(POLICY, 0);
        assert!(scheduler.rings_at(&store, 999).expect("rings").is_empty());
        assert_eq!(scheduler.next_wake_ms(&store).expect("next"), Some(1_000));
        let first = scheduler.rings_at(&store, 1_000).expect("rings");
        assert_eq!(first.len(), 1);
        assert_eq!((first[0].ring, first[0].late), (1, false));
        assert_eq!(scheduler.next_wake_ms(&store).expect("next"), Some(11_000));
        assert!(scheduler.rings_at(&store, 10_999).expect("rings").is_empty());
        let second = scheduler.rings_at(&store, 11_000).expect("rings");
        assert_eq!(second[0].ring, 2);
        assert_eq!(scheduler.acknowledge(&store).expect("ack"), 1);
        assert!(scheduler.rings_at(&store, 60_000).expect("rings").is_empty());
        assert_eq!(scheduler.next_wake_ms(&store).expect("next"), None);
    }

    #[test]
    fn an_unanswered_alarm_gives_up_after_its_last_ring() {
        let store = store_with_timer(0);
        let mut scheduler = Scheduler::new(POLICY, 0);
        let mut rings = Vec::new();
        for second in 0..60 {
            rings.extend(scheduler.rings_at(&store, second * 1_000).expect("rings"));
        }
        assert_eq!(rings.iter().map(|r| r.ring).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(!scheduler.is_ringing());
    }

    #[test]
    fn an_alarm_due_before_the_start_is_late() {
        let store = store_with_timer(1_000);
        let mut scheduler = Scheduler::new(POLICY, 5_000);
        let rings = scheduler.rings_at(&store, 5_000).expect("rings");
        assert!(rings[0].late);
    }
}
