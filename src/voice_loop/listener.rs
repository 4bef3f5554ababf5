//! The loop's decisions as a pure state machine: audio blocks and what the
//! engines reported go in, [`Action`]s come out. PipeWire, the wake-word
//! detector, Whisper and the speaker stay at the edge (`mod.rs`), so every
//! decision here (wake, pre-roll, a pause that starts a speculative answer,
//! speech end that confirms or abandons it, barge-in, giving up) is
//! unit-tested on recorded audio without a sound server.
//!
//! Time is counted in samples of the question, not read from a clock: the
//! same audio always gives the same decisions, however fast the machine.

use std::collections::VecDeque;

use hauski_voice::wake::WakeDetection;
use hauski_voice::{ASR_RATE, Endpointer, SpeechEvent, VadConfig};

use super::partials::partial_due;
use crate::assistant::turn_end::{HangOvers, TurnEnd};

pub(super) use crate::assistant::listening::{
    ASR_TAIL_S, LISTEN_TIMEOUT_S, MAX_QUESTION_S, PRE_ROLL_S, SPECULATE_AFTER_MS,
};

/// What happened since the last block, besides the block itself.
#[derive(Debug, Default)]
pub(super) struct Reports<'a> {
    /// Wake words the detector heard.
    pub detections: &'a [WakeDetection],
    /// Partial transcripts published so far.
    pub partials_published: usize,
    /// What one partial transcript costs on this machine, once known.
    pub partial_cost_s: Option<f64>,
    /// What the speculative turn's transcript says about its pause, once
    /// transcribed.
    pub turn_end: Option<TurnEnd>,
}

/// What the edge does, in order.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Action {
    /// The wake word: stop playback (barge-in), start a new answer epoch,
    /// publish it, listen.
    Wake { name: String, score: f32 },
    /// Speech started, `after_wake_ms` into the question.
    SpeechStarted { after_wake_ms: u64 },
    /// Speech ended, `after_wake_ms` into the question, decided `waited_ms`
    /// after the last voiced frame (the hang-over the turn's words asked for).
    SpeechEnded { after_wake_ms: u64, waited_ms: u64 },
    /// Stop the partial transcript in flight: a turn needs the cores.
    StopPartial,
    /// Answer this audio. A speculative turn is held back until
    /// [`Action::Confirm`] or [`Action::Abandon`].
    StartTurn { question: Vec<f32>, speculative: bool },
    /// The pause the speculative turn started in was the end of speech.
    Confirm,
    /// The speaker went on: the speculative turn is dropped unheard.
    Abandon,
    /// Transcribe the question so far ([`Listener::question_so_far`]) as a
    /// partial; call [`Listener::partial_offered`] if it was taken.
    OfferPartial,
    /// Nothing was said after the wake word; back to waiting for it.
    GiveUp,
}

/// The question being listened to.
struct Question {
    endpointer: Endpointer,
    hang_overs: HangOvers,
    /// The pre-roll, then every block since the wake word.
    audio: Vec<f32>,
    /// Samples of pre-roll at the start of `audio`.
    pre_roll: usize,
    /// Where speech started in `audio`, once it has.
    speech_start: Option<usize>,
    /// The length of `audio` when the last partial was offered.
    last_partial_at: Option<usize>,
    /// Partials published before this question: none since means the one in
    /// flight is the question's first.
    partials_before: usize,
    /// The end of the speech a speculative turn answers, while one runs.
    speculating_until: Option<usize>,
}

/// The loop's state: waiting for the wake word, or listening to a question.
pub(super) struct Listener {
    vad: VadConfig,
    hang_overs: HangOvers,
    /// The last [`PRE_ROLL_S`] of audio, for the next question's start.
    recent: VecDeque<f32>,
    pre_roll: usize,
    question: Option<Question>,
}

impl Listener {
    /// `hang_overs` decide when a pause ends the question; the endpointer
    /// itself only ends it after the longest of them.
    pub(super) fn new(vad: VadConfig, hang_overs: HangOvers) -> Self {
        let pre_roll = (PRE_ROLL_S * f64::from(ASR_RATE)) as usize;
        let vad = VadConfig {
            hangover_ms: hang_overs.longest_ms(),
            ..vad
        };
        Self {
            vad,
            hang_overs,
            recent: VecDeque::with_capacity(pre_roll),
            pre_roll,
            question: None,
        }
    }

    #[cfg(test)]
    pub(super) fn is_listening(&self) -> bool {
        self.question.is_some()
    }

    /// The question heard so far (empty while waiting for the wake word).
    pub(super) fn question_so_far(&self) -> &[f32] {
        self.question.as_ref().map_or(&[], |q| &q.audio)
    }

    /// The partial offered for the question so far was taken.
    pub(super) fn partial_offered(&mut self) {
        if let Some(q) = &mut self.question {
            q.last_partial_at = Some(q.audio.len());
        }
    }

    /// One block of 16 kHz audio and what the engines reported meanwhile.
    pub(super) fn step(&mut self, block: &[f32], reports: &Reports<'_>) -> Vec<Action> {
        let mut actions = Vec::new();
        for detection in reports.detections {
            // While the question is being spoken, a "detection" is the
            // question itself scoring high: it must not restart listening.
            if self.question.is_some() {
                tracing::debug!(score = detection.score, "wake word ignored while listening");
                continue;
            }
            actions.push(Action::Wake {
                name: detection.name.clone(),
                score: detection.score,
            });
            self.question = Some(Question {
                endpointer: Endpointer::new(self.vad.clone()),
                hang_overs: self.hang_overs,
                audio: self.recent.iter().copied().collect(),
                pre_roll: self.recent.len(),
                speech_start: None,
                last_partial_at: None,
                partials_before: reports.partials_published,
                speculating_until: None,
            });
        }
        self.recent.extend(block.iter().copied());
        let excess = self.recent.len().saturating_sub(self.pre_roll);
        self.recent.drain(..excess);
        if let Some(question) = &mut self.question {
            let done = question.hear(block, reports, &mut actions);
            if done {
                self.question = None;
            }
        }
        actions
    }
}

impl Question {
    /// Endpoints one block; true when listening is over.
    fn hear(&mut self, block: &[f32], reports: &Reports<'_>, actions: &mut Vec<Action>) -> bool {
        self.audio.extend_from_slice(block);
        let ended_by_silence = self.follow_speech(block, actions);
        let heard = self.audio.len() - self.pre_roll;
        let voiced_until = (self.pre_roll + self.endpointer.last_voiced_end()).min(self.audio.len());
        // The partial in flight stops when a turn needs the cores, unless it
        // is the question's first: where transcribing is slow, the turn's
        // transcript comes well after the end of speech, and the speaker
        // would never see a word of the question while saying it.
        let first_partial_pending = reports.partials_published == self.partials_before;
        let ended = ended_by_silence.or_else(|| self.ended_early(heard, voiced_until, reports));
        if let Some(end) = ended {
            self.end_turn(end, heard, first_partial_pending, actions);
            return true;
        }
        if self.speculating_until.is_some_and(|until| until != voiced_until) {
            tracing::info!("the speaker went on; speculative answer abandoned");
            actions.push(Action::Abandon);
            self.speculating_until = None;
        }
        if self.speculating_until.is_none()
            && self.endpointer.is_speaking()
            && self.endpointer.silence_ms() >= SPECULATE_AFTER_MS
        {
            // The speculative turn needs both cores to be ready by the end
            // of the hang-over; its own transcript is the next partial.
            if !first_partial_pending {
                actions.push(Action::StopPartial);
            }
            actions.push(Action::StartTurn {
                question: with_tail(&self.audio, voiced_until).to_vec(),
                speculative: true,
            });
            self.speculating_until = Some(voiced_until);
            return false;
        }
        if self.speech_start.is_none() && heard > LISTEN_TIMEOUT_S * ASR_RATE as usize {
            tracing::info!("heard nothing after the wake word; waiting for it again");
            actions.push(Action::GiveUp);
            return true;
        }
        if let Some(start) = self.speech_start
            && self.speculating_until.is_none()
            && partial_due(
                start,
                self.last_partial_at,
                self.audio.len(),
                reports.partial_cost_s,
            )
        {
            actions.push(Action::OfferPartial);
        }
        false
    }

    /// Feeds the endpointer; reports speech's start, and returns where the
    /// hang-over ended it, if it did.
    fn follow_speech(&mut self, block: &[f32], actions: &mut Vec<Action>) -> Option<usize> {
        let mut ended = None;
        for event in self.endpointer.push(block) {
            match event {
                SpeechEvent::Started { at_sample } => {
                    if self.speech_start.is_none() {
                        self.speech_start = Some(self.pre_roll + at_sample);
                        actions.push(Action::SpeechStarted {
                            after_wake_ms: ms(at_sample),
                        });
                    }
                }
                SpeechEvent::Ended { at_sample } => ended = Some(at_sample),
            }
        }
        ended
    }

    /// Where the question ends before the longest hang-over: after the wait
    /// its words' verdict asks for, or at the longest question.
    fn ended_early(&self, heard: usize, voiced_until: usize, reports: &Reports<'_>) -> Option<usize> {
        if self.endpointer.is_speaking() {
            // The verdict is on the pause the speculative turn started in;
            // new speech since makes it moot.
            let verdict = reports
                .turn_end
                .filter(|_| self.speculating_until == Some(voiced_until));
            if self.endpointer.silence_ms() >= self.hang_overs.needed_ms(verdict) {
                tracing::debug!(
                    ?verdict,
                    silence_ms = self.endpointer.silence_ms(),
                    "the turn's words end it"
                );
                return Some(self.endpointer.last_voiced_end());
            }
        }
        (heard > MAX_QUESTION_S * ASR_RATE as usize).then_some(heard)
    }

    /// Speech ended at `end` (samples after the pre-roll): the speculative
    /// turn on that very pause is confirmed, any other is replaced by one on
    /// the whole question.
    fn end_turn(&self, end: usize, heard: usize, first_partial_pending: bool, actions: &mut Vec<Action>) {
        actions.push(Action::SpeechEnded {
            after_wake_ms: ms(end),
            waited_ms: ms(heard.saturating_sub(end)),
        });
        if !first_partial_pending {
            actions.push(Action::StopPartial);
        }
        let question_end = (self.pre_roll + end).min(self.audio.len());
        match self.speculating_until {
            Some(until) if until == question_end => actions.push(Action::Confirm),
            other => {
                if other.is_some() {
                    actions.push(Action::Abandon);
                }
                actions.push(Action::StartTurn {
                    question: with_tail(&self.audio, question_end).to_vec(),
                    speculative: false,
                });
            }
        }
    }
}

fn ms(samples: usize) -> u64 {
    (samples as u64 * 1000) / u64::from(ASR_RATE)
}

/// The question up to `end`, and [`ASR_TAIL_S`] more where it was heard.
fn with_tail(audio: &[f32], end: usize) -> &[f32] {
    let tail = (ASR_TAIL_S * f64::from(ASR_RATE)) as usize;
    &audio[..(end + tail).min(audio.len())]
}

#[cfg(test)]
#[path = "listener_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "paused_questions_tests.rs"]
mod paused_questions;
