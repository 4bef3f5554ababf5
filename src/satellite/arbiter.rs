//! One answer when several rooms hear one wake word (a hall between two
//! rooms): wake words from different rooms within [`WINDOW`] of the first
//! are one group, and the room that heard it loudest gets the turn. Pure
//! over the instants it is given, so it is tested without a clock.
//!
//! The wait costs the speaker nothing: the question is still being spoken
//! (and streamed) while the group closes.

use std::time::{Duration, Instant};

/// How far apart two satellites' detections of one wake word may be: the
/// detector reports a word 40–360 ms after it ends, depending on the room's
/// audio, plus the network.
pub const WINDOW: Duration = Duration::from_millis(350);

#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub room: String,
    pub turn: String,
    pub level_db: f32,
}

/// A group's outcome: the turn that is answered, and those that are not.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub winner: Candidate,
    pub losers: Vec<Candidate>,
}

#[derive(Debug, Default)]
pub struct Arbiter {
    /// The open group, oldest first.
    pending: Vec<(Instant, Candidate)>,
}

impl Arbiter {
    /// A wake word heard in `candidate.room` at `at`. A room heard again in
    /// the same group (its detector fired twice) keeps only its latest turn.
    pub fn wake(&mut self, candidate: Candidate, at: Instant) {
        self.pending.retain(|(_, c)| c.room != candidate.room);
        self.pending.push((at, candidate));
    }

    /// When the open group closes, if there is one.
    pub fn closes_at(&self) -> Option<Instant> {
        self.pending.first().map(|(at, _)| *at + WINDOW)
    }

    /// The open group's outcome once it has closed at `now`; wake words
    /// after its window start the next group.
    pub fn decide(&mut self, now: Instant) -> Option<Decision> {
        let closes = self.closes_at().filter(|at| now >= *at)?;
        let split = self.pending.iter().position(|(at, _)| *at > closes);
        let rest = split.map(|at| self.pending.split_off(at)).unwrap_or_default();
        let mut group: Vec<Candidate> = std::mem::replace(&mut self.pending, rest)
            .into_iter()
            .map(|(_, c)| c)
            .collect();
        // The loudest first; on a tie, the first heard.
        let loudest = group
            .iter()
            .enumerate()
            .max_by(|(i, a), (j, b)| a.level_db.total_cmp(&b.level_db).then(j.cmp(i)))
            .map(|(i, _)| i)?;
        let winner = group.remove(loudest);
        Some(Decision {
            winner,
            losers: group,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heard(room: &str, level_db: f32) -> Candidate {
        Candidate {
            room: room.into(),
            turn: format!("{room}-1"),
            level_db,
        }
    }

    #[test]
    fn the_loudest_room_of_a_group_answers() {
        let t0 = Instant::now();
        let mut arbiter = Arbiter::default();
        arbiter.wake(heard("hall", -30.0), t0);
        arbiter.wake(heard("kitchen", -22.0), t0 + Duration::from_millis(120));
        assert_eq!(
            arbiter.decide(t0 + Duration::from_millis(300)),
            None,
            "still open"
        );
        let decision = arbiter.decide(t0 + WINDOW);
        assert_eq!(
            decision,
            Some(Decision {
                winner: heard("kitchen", -22.0),
                losers: vec![heard("hall", -30.0)]
            })
        );
        assert_eq!(arbiter.closes_at(), None);
    }

    #[test]
    fn a_lone_room_wins_and_a_later_wake_word_is_the_next_group() {
        let t0 = Instant::now();
        let mut arbiter = Arbiter::default();
        arbiter.wake(heard("hall", -40.0), t0);
        arbiter.wake(heard("kitchen", -10.0), t0 + WINDOW + Duration::from_millis(1));
        let first = arbiter.decide(t0 + WINDOW + Duration::from_millis(5));
        assert_eq!(
            first.map(|d| (d.winner.room, d.losers.len())),
            Some(("hall".into(), 0))
        );
        assert_eq!(arbiter.decide(t0 + WINDOW + Duration::from_millis(5)), None);
        let second = arbiter.decide(t0 + WINDOW * 2 + Duration::from_millis(1));
        assert_eq!(second.map(|d| d.winner.room), Some("kitchen".into()));
    }

    #[test]
    fn equal_levels_go_to_the_first_heard_and_a_repeat_replaces_its_room() {
        let t0 = Instant::now();
        let mut arbiter = Arbiter::default();
        arbiter.wake(heard("hall", -20.0), t0);
        arbiter.wake(heard("kitchen", -20.0), t0 + Duration::from_millis(50));
        let mut again = heard("hall", -50.0);
        again.turn = "hall-2".into();
        arbiter.wake(again.clone(), t0 + Duration::from_millis(60));
        let decision = arbiter.decide(t0 + Duration::from_secs(1));
        assert_eq!(
            decision,
            Some(Decision {
                winner: heard("kitchen", -20.0),
                losers: vec![again]
            })
        );
        let mut tie = Arbiter::default();
        tie.wake(heard("hall", -20.0), t0);
        tie.wake(heard("kitchen", -20.0), t0 + Duration::from_millis(50));
        assert_eq!(
            tie.decide(t0 + WINDOW).map(|d| d.winner.room),
            Some("hall".into())
        );
    }
}
