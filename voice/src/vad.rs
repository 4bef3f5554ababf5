//! Voice activity detection with webrtc-vad: where an utterance starts and ends.
//!
//! The endpointer is a small state machine fed 30 ms frames. Speech starts after
//! `min_speech_ms` of voiced frames and ends after `hangover_ms` of silence, so
//! a short pause between words does not cut the sentence. The same machine serves
//! recorded files (`find_utterance`) and the live microphone.
//!
//! webrtc-vad smooths its own decision: it keeps saying "voiced" for up to
//! three frames after speech stops (measured on espeak-ng questions followed
//! by a quiet room's hiss: the last voiced frame ended up to 107 ms after the
//! last sound; `tests/it/speech_engines.rs`). That would lengthen the configured hang-over by as
//! much, and every answer with it. So a frame also needs some loudness to
//! count as voiced: within [`QUIET_BELOW_SPEECH`] of the loudest voiced frame
//! so far. In a noisy room the noise is above that floor and the decision is
//! webrtc-vad's alone.

use webrtc_vad::{SampleRate, Vad, VadMode};

use crate::ASR_RATE;

/// Tuning for the endpointer; defaults suit a quiet room.
#[derive(Debug, Clone, PartialEq)]
pub struct VadConfig {
    /// webrtc-vad aggressiveness, 0 (lenient) to 3 (strict).
    pub aggressiveness: u8,
    /// Silence needed after speech before the utterance counts as finished.
    pub hangover_ms: u32,
    /// Voiced time needed before speech counts as started (rejects clicks).
    pub min_speech_ms: u32,
    /// Audio kept before the detected start and after the end, so soft word
    /// edges are not clipped before ASR.
    pub padding_ms: u32,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            aggressiveness: 2,
            hangover_ms: 600,
            min_speech_ms: 90,
            padding_ms: 200,
        }
    }
}

/// A frame this far below the utterance's loudest voiced frame (in RMS, here
/// −40 dB) is silence whatever webrtc-vad says: further down than the softest
/// trailing consonant, far above digital silence or a quiet room's hiss.
const QUIET_BELOW_SPEECH: f32 = 0.01;

/// The endpointer works in 30 ms frames, the longest webrtc-vad accepts.
pub const FRAME_MS: u32 = 30;
const FRAME_SAMPLES: usize = (ASR_RATE * FRAME_MS / 1000) as usize;

/// A change in the speaker's state, with the sample index where it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpeechEvent {
    Started { at_sample: usize },
    Ended { at_sample: usize },
}

impl SpeechEvent {
    fn start(&self) -> Option<usize> {
        match self {
            Self::Started { at_sample } => Some(*at_sample),
            Self::Ended { .. } => None,
        }
    }

    fn end(&self) -> Option<usize> {
        match self {
            Self::Ended { at_sample } => Some(*at_sample),
            Self::Started { .. } => None,
        }
    }
}

/// Streaming endpointer over 16 kHz mono samples.
pub struct Endpointer {
    vad: Vad,
    config: VadConfig,
    pending: Vec<i16>,
    consumed: usize,
    speaking: bool,
    voiced_run_ms: u32,
    silent_run_ms: u32,
    run_start: usize,
    last_voiced_end: usize,
    /// RMS of the loudest voiced frame so far (full scale 1.0).
    speech_level: f32,
}

impl Endpointer {
    pub fn new(config: VadConfig) -> Self {
        let mode = match config.aggressiveness {
            0 => VadMode::Quality,
            1 => VadMode::LowBitrate,
            2 => VadMode::Aggressive,
            _ => VadMode::VeryAggressive,
        };
        Self {
            vad: Vad::new_with_rate_and_mode(SampleRate::Rate16kHz, mode),
            config,
            pending: Vec::with_capacity(FRAME_SAMPLES),
            consumed: 0,
            speaking: false,
            voiced_run_ms: 0,
            silent_run_ms: 0,
            run_start: 0,
            last_voiced_end: 0,
            speech_level: 0.0,
        }
    }

    /// Feeds samples and returns the events they complete, in order.
    pub fn push(&mut self, samples: &[f32]) -> Vec<SpeechEvent> {
        let mut events = Vec::new();
        for &s in samples {
            self.pending
                .push((s.clamp(-1.0, 1.0) * f32::from(i16::MAX)) as i16);
            if self.pending.len() == FRAME_SAMPLES {
                let frame = std::mem::take(&mut self.pending);
                if let Some(event) = self.on_frame(&frame) {
                    events.push(event);
                }
                self.pending = frame;
                self.pending.clear();
            }
        }
        events
    }

    /// Ends the stream: open speech is closed at the last voiced frame.
    pub fn finish(&mut self) -> Option<SpeechEvent> {
        if self.speaking {
            self.speaking = false;
            Some(SpeechEvent::Ended {
                at_sample: self.last_voiced_end,
            })
        } else {
            None
        }
    }

    pub fn is_speaking(&self) -> bool {
        self.speaking
    }

    /// Silence since the last voiced frame while speech is open (0 when not
    /// speaking): a pause that may become the end once it reaches the hang-over.
    pub fn silence_ms(&self) -> u32 {
        if self.speaking { self.silent_run_ms } else { 0 }
    }

    /// The sample just past the last voiced frame: where speech would end
    /// if the current pause became the end.
    pub fn last_voiced_end(&self) -> usize {
        self.last_voiced_end
    }

    fn on_frame(&mut self, frame: &[i16]) -> Option<SpeechEvent> {
        let start = self.consumed;
        self.consumed += frame.len();
        // webrtc-vad only fails on a wrong frame length, which FRAME_SAMPLES rules out.
        let level = rms(frame);
        let voiced = self.vad.is_voice_segment(frame).unwrap_or(false)
            && level > self.speech_level * QUIET_BELOW_SPEECH;
        if voiced {
            self.speech_level = self.speech_level.max(level);
            if self.voiced_run_ms == 0 {
                self.run_start = start;
            }
            self.voiced_run_ms += FRAME_MS;
            self.silent_run_ms = 0;
            self.last_voiced_end = self.consumed;
            if !self.speaking && self.voiced_run_ms >= self.config.min_speech_ms {
                self.speaking = true;
                return Some(SpeechEvent::Started {
                    at_sample: self.run_start,
                });
            }
        } else {
            self.voiced_run_ms = 0;
            self.silent_run_ms += FRAME_MS;
            if self.speaking && self.silent_run_ms >= self.config.hangover_ms {
                self.speaking = false;
                return Some(SpeechEvent::Ended {
                    at_sample: self.last_voiced_end,
                });
            }
        }
        None
    }
}

/// Root mean square of a frame, full scale 1.0.
fn rms(frame: &[i16]) -> f32 {
    if frame.is_empty() {
        return 0.0;
    }
    let sum: f64 = frame.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    ((sum / frame.len() as f64).sqrt() / f64::from(i16::MAX)) as f32
}

/// A detected utterance as a sample range of the input, padding included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utterance {
    pub start: usize,
    pub end: usize,
    /// Where speech ended before padding: the moment "speech end" latency is measured from.
    pub speech_end: usize,
}

/// Finds the first utterance in a recording (16 kHz mono) as the live
/// endpointer would: it ends at the first pause longer than the hang-over.
/// `None` if the recording is silent.
pub fn find_utterance(samples: &[f32], config: &VadConfig) -> Option<Utterance> {
    let _span = tracing::debug_span!("vad", samples = samples.len()).entered();
    let events = speech_events(samples, config);
    let start = events.iter().find_map(SpeechEvent::start)?;
    let speech_end = events.iter().find_map(SpeechEvent::end).unwrap_or(samples.len());
    Some(padded(start, speech_end, samples.len(), config))
}

/// The whole spoken part of a recording: from the first speech to the last,
/// pauses included. A recorded question is one turn even when the speaker
/// pauses for effect; only leading and trailing silence is cut.
pub fn speech_span(samples: &[f32], config: &VadConfig) -> Option<Utterance> {
    let _span = tracing::debug_span!("vad", samples = samples.len()).entered();
    let events = speech_events(samples, config);
    let start = events.iter().find_map(SpeechEvent::start)?;
    let speech_end = events.iter().rev().find_map(SpeechEvent::end)?;
    Some(padded(start, speech_end, samples.len(), config))
}

fn speech_events(samples: &[f32], config: &VadConfig) -> Vec<SpeechEvent> {
    let mut endpointer = Endpointer::new(config.clone());
    let mut events = endpointer.push(samples);
    events.extend(endpointer.finish());
    events
}

fn padded(start: usize, speech_end: usize, len: usize, config: &VadConfig) -> Utterance {
    let pad = (ASR_RATE * config.padding_ms / 1000) as usize;
    Utterance {
        start: start.saturating_sub(pad),
        end: (speech_end + pad).min(len),
        speech_end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A buzzy vowel-like signal: webrtc-vad reliably calls harmonics-rich
    /// 150 Hz voiced; pure silence is never voiced.
    fn voiced(seconds: f32) -> Vec<f32> {
        let n = (seconds * ASR_RATE as f32) as usize;
        (0..n)
            .map(|i| {
                let t = i as f32 / ASR_RATE as f32;
                (1..8)
                    .map(|h| (2.0 * std::f32::consts::PI * 150.0 * h as f32 * t).sin() / h as f32)
                    .sum::<f32>()
                    * 0.3
            })
            .collect()
    }

    fn silence(seconds: f32) -> Vec<f32> {
        vec![0.0; (seconds * ASR_RATE as f32) as usize]
    }

    #[test]
    fn trims_leading_and_trailing_silence() {
        let audio = [silence(1.0), voiced(1.0), silence(1.5)].concat();
        let config = VadConfig {
            padding_ms: 0,
            ..VadConfig::default()
        };
        let u = find_utterance(&audio, &config).expect("speech found");
        let at = |s: f32| (s * ASR_RATE as f32) as usize;
        assert!(u.start >= at(0.9) && u.start <= at(1.1), "start {}", u.start);
        assert!(
            u.speech_end >= at(1.9) && u.speech_end <= at(2.1),
            "end {}",
            u.speech_end
        );
    }

    #[test]
    fn short_pause_within_hangover_keeps_one_utterance() {
        let audio = [voiced(0.5), silence(0.3), voiced(0.5), silence(1.0)].concat();
        let u = find_utterance(&audio, &VadConfig::default()).expect("speech found");
        assert!(
            u.speech_end >= (1.2 * ASR_RATE as f32) as usize,
            "end {}",
            u.speech_end
        );
    }

    #[test]
    fn silence_has_no_utterance() {
        assert_eq!(find_utterance(&silence(2.0), &VadConfig::default()), None);
        assert_eq!(speech_span(&silence(2.0), &VadConfig::default()), None);
    }

    #[test]
    fn speech_span_keeps_long_pauses_inside() {
        let audio = [silence(0.5), voiced(0.5), silence(1.5), voiced(0.5), silence(1.0)].concat();
        let config = VadConfig {
            padding_ms: 0,
            ..VadConfig::default()
        };
        let first = find_utterance(&audio, &config).expect("speech");
        let span = speech_span(&audio, &config).expect("speech");
        let at = |s: f32| (s * ASR_RATE as f32) as usize;
        assert!(
            first.speech_end <= at(1.2),
            "first ends at the long pause: {}",
            first.speech_end
        );
        assert!(
            span.speech_end >= at(2.9),
            "span reaches the last word: {}",
            span.speech_end
        );
    }

    #[test]
    fn soft_speech_after_loud_speech_still_counts() {
        // A word 30 dB below the first one keeps the utterance open.
        let soft: Vec<f32> = voiced(0.5).iter().map(|s| s * 0.03).collect();
        let audio = [voiced(0.5), silence(0.3), soft, silence(1.0)].concat();
        let config = VadConfig {
            padding_ms: 0,
            ..VadConfig::default()
        };
        let u = find_utterance(&audio, &config).expect("speech found");
        assert!(
            u.speech_end >= (1.2 * ASR_RATE as f32) as usize,
            "end {}",
            u.speech_end
        );
    }

    #[test]
    fn hangover_is_configurable() {
        let audio = [voiced(0.5), silence(0.3), voiced(0.5), silence(1.0)].concat();
        let short = VadConfig {
            hangover_ms: 150,
            padding_ms: 0,
            ..VadConfig::default()
        };
        let u = find_utterance(&audio, &short).expect("speech found");
        assert!(
            u.speech_end <= (0.6 * ASR_RATE as f32) as usize,
            "end {}",
            u.speech_end
        );
    }
}
