//! Partial transcripts: the question so far, transcribed while the speaker
//! talks, on a thread of their own so endpointing never waits for one.
//!
//! How often depends on how long a partial takes on this machine: on a CPU
//! five times slower, one every half second would keep a core busy for
//! nothing and be stopped half-way by the answer, and none would ever come
//! out. So the pace is measured, and the first partial of a question is let
//! finish even when a speculative answer starts (`spare_first`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use hauski_voice::ASR_RATE;

use super::emit_partial;
use crate::assistant::bus::Bus;

/// Shortest time between two partials (of the question's audio).
const PARTIAL_EVERY_S: f64 = 0.5;
/// Speech heard before the first partial: less is mostly the wake word's tail.
const FIRST_AFTER_S: f64 = 0.4;
/// A partial is made at most once per this many of its own durations, so a
/// slow machine keeps a share of the core for the wake word and playback.
const COST_FACTOR: f64 = 1.5;

/// Whether a partial is due for a question whose speech started at sample
/// `speech_start` and whose audio is `len` samples long. `last_at` is the
/// length when the last partial was offered, `cost_s` what one takes here.
pub(super) fn partial_due(
    speech_start: usize,
    last_at: Option<usize>,
    len: usize,
    cost_s: Option<f64>,
) -> bool {
    let seconds = |samples: usize| samples as f64 / f64::from(ASR_RATE);
    match last_at {
        None => seconds(len.saturating_sub(speech_start)) >= FIRST_AFTER_S,
        Some(at) => {
            let every = (cost_s.unwrap_or(0.0) * COST_FACTOR).max(PARTIAL_EVERY_S);
            seconds(len.saturating_sub(at)) >= every
        }
    }
}

/// The question so far; `abort` gives the partial's core to the answer.
struct Partial {
    audio: Vec<f32>,
    abort: Arc<AtomicBool>,
}

/// The partial-transcript thread's inbox: one partial at a time.
pub(super) struct Partials {
    sender: std::sync::mpsc::SyncSender<Partial>,
    /// Set while a partial is being transcribed.
    busy: Arc<AtomicBool>,
    /// Partials published so far.
    published: Arc<AtomicUsize>,
    /// Wall time of the last finished partial, in microseconds (0: none yet).
    cost_us: Arc<AtomicU64>,
}

impl Partials {
    /// Starts the thread that transcribes with `transcriber`.
    pub(super) fn start(transcriber: Arc<hauski_voice::Transcriber>, bus: &Bus) -> Result<Self, String> {
        let bus = bus.clone();
        let busy = Arc::new(AtomicBool::new(false));
        let published = Arc::new(AtomicUsize::new(0));
        let cost_us = Arc::new(AtomicU64::new(0));
        let (sender, rx) = std::sync::mpsc::sync_channel::<Partial>(0);
        let (done, count, cost) = (busy.clone(), published.clone(), cost_us.clone());
        std::thread::Builder::new()
            .name("asr-partial".into())
            .spawn(move || {
                for Partial { audio, abort } in rx {
                    let _span = tracing::debug_span!("asr_partial", samples = audio.len()).entered();
                    let started = Instant::now();
                    match transcriber.transcribe_partial(&audio, ASR_RATE, Some(abort)) {
                        Ok(t) => {
                            let took = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                            cost.store(took.max(1), Ordering::Relaxed);
                            if !t.text.trim().is_empty() {
                                emit_partial(&bus, t.text.trim());
                                count.fetch_add(1, Ordering::AcqRel);
                            }
                        }
                        Err(hauski_voice::VoiceError::Aborted) => {}
                        Err(e) => tracing::debug!(error = %e, "partial transcript failed"),
                    }
                    done.store(false, Ordering::Release);
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(Self {
            sender,
            busy,
            published,
            cost_us,
        })
    }

    /// Seconds the last partial took here, once one has finished.
    pub(super) fn cost_s(&self) -> Option<f64> {
        match self.cost_us.load(Ordering::Relaxed) {
            0 => None,
            us => Some(us as f64 / 1e6),
        }
    }

    /// How many partials have been published so far.
    pub(super) fn published(&self) -> usize {
        self.published.load(Ordering::Acquire)
    }

    /// Hands the question so far to the partial thread, unless it is still
    /// busy with the last one: then this partial is skipped, without copying
    /// the audio. Returns the new partial's abort switch.
    pub(super) fn offer(&self, audio: &[f32]) -> Option<Arc<AtomicBool>> {
        if self.busy.swap(true, Ordering::AcqRel) {
            return None;
        }
        let abort = Arc::new(AtomicBool::new(false));
        let partial = Partial {
            audio: audio.to_vec(),
            abort: abort.clone(),
        };
        if self.sender.try_send(partial).is_err() {
            // The thread is between partials, or gone.
            self.busy.store(false, Ordering::Release);
            return None;
        }
        Some(abort)
    }
}

#[cfg(test)]
mod tests {
    use super::partial_due;

    const S: usize = 16_000;

    #[test]
    fn the_first_partial_waits_for_some_speech() {
        // Speech started at 0.5 s (pre-roll and the pause after the wake word).
        assert!(!partial_due(S / 2, None, S / 2 + S / 4, None));
        assert!(partial_due(S / 2, None, S / 2 + S / 2, None));
    }

    #[test]
    fn partials_come_less_often_where_they_take_longer() {
        // Fast machine (0.1 s a partial): every half second.
        assert!(!partial_due(0, Some(S), S + S / 4, Some(0.1)));
        assert!(partial_due(0, Some(S), S + S / 2, Some(0.1)));
        // Five times slower (0.6 s): every 0.9 s, never back to back.
        assert!(!partial_due(0, Some(S), S + S / 2, Some(0.6)));
        assert!(partial_due(0, Some(S), S + S * 9 / 10, Some(0.6)));
    }
}
