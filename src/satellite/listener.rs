//! A satellite's decisions as a pure state machine: audio blocks and wake
//! detections in, [`Heard`] out. Simpler than the main loop's listener: a
//! satellite does not transcribe, so it only streams the question from the
//! wake word until the endpointer calls speech over. Time is counted in
//! samples, so the same audio always gives the same decisions.

use std::collections::VecDeque;

use hauski_voice::wake::WakeDetection;
use hauski_voice::{ASR_RATE, Endpointer, SpeechEvent, VadConfig};

use crate::assistant::listening::{LISTEN_TIMEOUT_S, MAX_QUESTION_S, PRE_ROLL_S, SPECULATE_AFTER_MS};

/// The window whose loudness is the wake word's level.
const LEVEL_WINDOW_S: f64 = 1.0;

/// What the satellite does, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Heard {
    /// The wake word, this loud (dBFS over the last second): stop playback,
    /// announce a turn.
    Wake { name: String, score: f32, level_db: f32 },
    /// Question audio to stream (the pre-roll first).
    Audio(Vec<f32>),
    /// The speaker paused: speech so far ends at sample `voiced_until` of
    /// the streamed audio.
    Pause { voiced_until: usize },
    /// The question is over; `speech` is false when nothing was said.
    /// `voiced_until` as for [`Heard::Pause`]: equal to the last pause's
    /// when that pause became the end.
    End { speech: bool, voiced_until: usize },
}

struct Question {
    endpointer: Endpointer,
    /// Samples streamed before the endpointer's first (the pre-roll).
    pre_roll: usize,
    heard: usize,
    speech_started: bool,
    paused_at: Option<usize>,
}

pub struct SatelliteListener {
    vad: VadConfig,
    recent: VecDeque<f32>,
    keep: usize,
    pre_roll: usize,
    question: Option<Question>,
}

impl SatelliteListener {
    pub fn new(vad: VadConfig) -> Self {
        let rate = f64::from(ASR_RATE);
        let keep = (LEVEL_WINDOW_S * rate) as usize;
        Self {
            vad,
            recent: VecDeque::with_capacity(keep),
            keep,
            pre_roll: (PRE_ROLL_S * rate) as usize,
            question: None,
        }
    }

    pub fn is_listening(&self) -> bool {
        self.question.is_some()
    }

    /// The main gave the turn to another room: stop streaming this question.
    pub fn stand_down(&mut self) {
        self.question = None;
    }

    /// One block of 16 kHz audio and the wake words detected meanwhile.
    pub fn step(&mut self, block: &[f32], detections: &[WakeDetection]) -> Vec<Heard> {
        let mut heard = Vec::new();
        self.recent.extend(block.iter().copied());
        let excess = self.recent.len().saturating_sub(self.keep);
        self.recent.drain(..excess);
        // A detection while listening is the question itself scoring high.
        if let Some(detection) = detections.first().filter(|_| self.question.is_none()) {
            heard.push(Heard::Wake {
                name: detection.name.clone(),
                score: detection.score,
                level_db: level_db(self.recent.iter().copied()),
            });
            let from = self.recent.len().saturating_sub(self.pre_roll + block.len());
            let pre_roll: Vec<f32> = self.recent.range(from..).copied().collect();
            let pre_len = pre_roll.len() - block.len().min(pre_roll.len());
            heard.push(Heard::Audio(pre_roll[..pre_len].to_vec()));
            self.question = Some(Question {
                endpointer: Endpointer::new(self.vad.clone()),
                pre_roll: pre_len,
                heard: 0,
                speech_started: false,
                paused_at: None,
            });
        }
        let Some(question) = &mut self.question else {
            return heard;
        };
        heard.push(Heard::Audio(block.to_vec()));
        question.heard += block.len();
        let mut ended = false;
        for event in question.endpointer.push(block) {
            match event {
                SpeechEvent::Started { .. } => question.speech_started = true,
                SpeechEvent::Ended { .. } => ended = true,
            }
        }
        let rate = ASR_RATE as usize;
        let speech = question.speech_started;
        let voiced_until = question.pre_roll + question.endpointer.last_voiced_end();
        if ended
            || question.heard > MAX_QUESTION_S * rate
            || (!speech && question.heard > LISTEN_TIMEOUT_S * rate)
        {
            heard.push(Heard::End { speech, voiced_until });
            self.question = None;
        } else if question.endpointer.is_speaking()
            && question.endpointer.silence_ms() >= SPECULATE_AFTER_MS
            && question.paused_at != Some(voiced_until)
        {
            question.paused_at = Some(voiced_until);
            heard.push(Heard::Pause { voiced_until });
        }
        heard
    }
}

/// RMS of `samples` in dBFS (−120 for silence).
pub fn level_db(samples: impl Iterator<Item = f32>) -> f32 {
    let (sum, n) = samples.fold((0.0f64, 0usize), |(sum, n), s| {
        (sum + f64::from(s) * f64::from(s), n + 1)
    });
    if n == 0 || sum == 0.0 {
        return -120.0;
    }
    (10.0 * (sum / n as f64).log10()).max(-120.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: usize = 320;
    const RATE: usize = ASR_RATE as usize;

    fn phrase(gain: f32) -> Vec<f32> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/models/audio/jfk.wav");
        let audio = hauski_audio::load_mono(std::path::Path::new(path), ASR_RATE).unwrap_or_else(|e| {
            panic!("{path}: {e}; the unit tests need ../shared/models beside the repository")
        });
        audio[RATE * 3 / 10..RATE * 22 / 10]
            .iter()
            .map(|s| s * gain)
            .collect()
    }

    fn detection() -> WakeDetection {
        WakeDetection {
            name: "hey-hauski".into(),
            timestamp_ms: 0,
            score: 0.6,
        }
    }

    /// Feeds `audio` in blocks, the wake word reported at sample `wake_at`.
    fn run(audio: &[f32], wake_at: usize) -> Vec<(usize, Heard)> {
        let mut listener = SatelliteListener::new(VadConfig::default());
        let mut out = Vec::new();
        for (i, block) in audio.chunks(BLOCK).enumerate() {
            let detections = if i * BLOCK == wake_at {
                vec![detection()]
            } else {
                vec![]
            };
            for heard in listener.step(block, &detections) {
                out.push((i * BLOCK + block.len(), heard));
            }
        }
        out
    }

    #[test]
    fn the_question_streams_from_the_pre_roll_until_speech_ends() {
        let audio = [vec![0.0; RATE], phrase(1.0), vec![0.0; RATE * 2]].concat();
        let heard = run(&audio, RATE);
        assert!(matches!(heard[0].1, Heard::Wake { .. }), "{:?}", heard[0]);
        let streamed: usize = heard
            .iter()
            .map(|(_, h)| match h {
                Heard::Audio(a) => a.len(),
                _ => 0,
            })
            .sum();
        let end = heard
            .iter()
            .position(|(_, h)| matches!(h, Heard::End { speech: true, .. }));
        let Some(end) = end else {
            panic!(
                "no end of speech: {:?}",
                heard.iter().map(|h| h.0).collect::<Vec<_>>()
            );
        };
        assert_eq!(end, heard.len() - 1, "nothing after the end");
        // Ended within the hang-over (+ a frame and a block) after the phrase.
        let phrase_end = RATE + phrase(1.0).len();
        let ended_at = heard[end].0;
        assert!(
            ended_at > phrase_end && ended_at < phrase_end + RATE * 7 / 10,
            "{ended_at}"
        );
        assert_eq!(
            streamed,
            (PRE_ROLL_S * RATE as f64) as usize + ended_at - RATE,
            "pre-roll plus every block since the wake word"
        );
        // The last pause reported is where speech ended: the main's
        // speculative answer to it is the one confirmed.
        let pauses: Vec<usize> = heard
            .iter()
            .filter_map(|(_, h)| match h {
                Heard::Pause { voiced_until } => Some(*voiced_until),
                _ => None,
            })
            .collect();
        let Heard::End { voiced_until, .. } = heard[end].1 else {
            unreachable!()
        };
        assert_eq!(pauses.last(), Some(&voiced_until), "{pauses:?}");
        let phrase_end_streamed = RATE / 4 + phrase(1.0).len();
        assert!(
            voiced_until.abs_diff(phrase_end_streamed) < RATE / 5,
            "{voiced_until} vs {phrase_end_streamed}"
        );
    }

    #[test]
    fn silence_after_the_wake_word_ends_without_speech() {
        let heard = run(&vec![0.0; RATE * 8], 0);
        let ends: Vec<_> = heard
            .iter()
            .filter(|(_, h)| matches!(h, Heard::End { .. }))
            .collect();
        assert_eq!(ends.len(), 1);
        assert!(matches!(ends[0].1, Heard::End { speech: false, .. }));
        assert!(!heard.iter().any(|(_, h)| matches!(h, Heard::Pause { .. })));
        assert!(ends[0].0 > LISTEN_TIMEOUT_S * RATE && ends[0].0 <= LISTEN_TIMEOUT_S * RATE + 2 * BLOCK);
    }

    #[test]
    fn a_louder_room_reports_a_higher_level() {
        let level = |gain: f32| {
            let audio = [phrase(gain), vec![0.0; BLOCK]].concat();
            let heard = run(&audio, RATE);
            heard
                .iter()
                .find_map(|(_, h)| match h {
                    Heard::Wake { level_db, .. } => Some(*level_db),
                    _ => None,
                })
                .unwrap_or(f32::NAN)
        };
        let (near, far) = (level(1.0), level(0.25));
        assert!((near - far - 12.04).abs() < 0.1, "near {near} dB, far {far} dB");
        assert_eq!(level_db(std::iter::repeat_n(0.0, 10)), -120.0);
    }
}
