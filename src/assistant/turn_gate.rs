//! A turn: the answer to one question, which may be started before the
//! question is known to be over.
//!
//! The endpointer waits `vad_hangover_ms` of silence before it calls speech
//! over, and that wait is most of the time a listener would notice. So when
//! the speaker has paused briefly, the loop starts answering what it has
//! heard so far (transcript, LLM, speech synthesis), holding the audio back;
//! the satellites' door does the same for a satellite's pause.
//! If the pause becomes the end of speech, the turn is confirmed and the
//! answer plays at once; if the speaker goes on, the turn is abandoned and
//! nothing of it is heard or done.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use super::turn_end::TurnEnd;

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Pending,
    /// Speech ended here: play, timing the first audio from this instant.
    Confirmed(Instant),
    Abandoned,
}

/// Where a turn's answer waits until the question is known to be over:
/// confirmed, it plays; abandoned, it is dropped unheard. (Not the prompt's
/// `hauski_brain::Turn`, which is what the LLM is asked.)
#[derive(Debug)]
pub struct TurnGate {
    state: Mutex<State>,
    settled: Condvar,
    /// Set when abandoned: work in flight (Whisper) stops early.
    abandoned: Arc<AtomicBool>,
    /// What the turn's transcript says about the pause it started in, once
    /// transcribed: the listener ends the turn sooner or later by it.
    verdict: Mutex<Option<TurnEnd>>,
}

impl TurnGate {
    /// A turn whose question is already over (no speculation).
    pub fn confirmed(speech_end: Instant) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State::Confirmed(speech_end)),
            settled: Condvar::new(),
            abandoned: Arc::default(),
            verdict: Mutex::default(),
        })
    }

    fn pending() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State::Pending),
            settled: Condvar::new(),
            abandoned: Arc::default(),
            verdict: Mutex::default(),
        })
    }

    fn settle(&self, to: State) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if *state == State::Pending {
            *state = to;
            if to == State::Abandoned {
                self.abandoned.store(true, Ordering::Relaxed);
            }
            self.settled.notify_all();
        }
    }

    /// A flag that turns true when the turn is abandoned.
    pub fn abandoned_flag(&self) -> Arc<AtomicBool> {
        self.abandoned.clone()
    }

    /// Blocks until the turn is settled: `Some(speech end)` to go on, `None`
    /// when it was abandoned.
    pub fn wait(&self) -> Option<Instant> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let state = self
            .settled
            .wait_while(state, |s| *s == State::Pending)
            .unwrap_or_else(|p| p.into_inner());
        match *state {
            State::Confirmed(at) => Some(at),
            _ => None,
        }
    }

    /// Records what the transcript says about the pause (see `turn_end`).
    pub fn judged(&self, verdict: TurnEnd) {
        *self.verdict.lock().unwrap_or_else(|p| p.into_inner()) = Some(verdict);
    }

    /// The transcript's verdict on the pause, once judged.
    pub fn verdict(&self) -> Option<TurnEnd> {
        *self.verdict.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Where the turn stands now, without waiting: `None` while pending.
    pub fn settled(&self) -> Option<Option<Instant>> {
        match *self.state.lock().unwrap_or_else(|p| p.into_inner()) {
            State::Pending => None,
            State::Confirmed(at) => Some(Some(at)),
            State::Abandoned => Some(None),
        }
    }
}

/// The listening side's hold on a speculative turn. Dropping it without
/// confirming abandons the turn, so no path out of listening can leave an
/// answer waiting forever.
pub struct Speculation {
    pub turn: Arc<TurnGate>,
}

impl Speculation {
    pub fn start() -> Self {
        Self {
            turn: TurnGate::pending(),
        }
    }

    pub fn confirm(self, speech_end: Instant) {
        self.turn.settle(State::Confirmed(speech_end));
    }
}

impl Drop for Speculation {
    fn drop(&mut self) {
        self.turn.settle(State::Abandoned);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confirmed_speculation_goes_on_and_a_dropped_one_is_abandoned() {
        let confirmed = Speculation::start();
        let turn = confirmed.turn.clone();
        let waiter = std::thread::spawn(move || turn.wait());
        let at = Instant::now();
        confirmed.confirm(at);
        assert_eq!(waiter.join().ok().flatten(), Some(at));

        let dropped = Speculation::start();
        let turn = dropped.turn.clone();
        let waiter = {
            let turn = turn.clone();
            std::thread::spawn(move || turn.wait())
        };
        drop(dropped);
        assert_eq!(waiter.join().ok().flatten(), None);
        assert_eq!(turn.settled(), Some(None));
        assert!(turn.abandoned_flag().load(Ordering::Relaxed));
    }
}
