//! The speaking end of the loop: sentences in, Piper, the playback queue out.
//! Each answer has an epoch; barge-in starts a new one, and sentences of an
//! older epoch are dropped unspoken.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hauski_audio::live::Playback;
use hauski_voice::PiperVoice;

use crate::assistant::SharedAssistant;
use crate::assistant::bus::Event;
use crate::assistant::turn_gate::TurnGate;

pub struct Sentence {
    pub epoch: u64,
    /// Empty in a last sentence that only closes its answer (the words all
    /// went out before the answer was known to be over).
    pub text: String,
    /// The turn it answers: synthesised at once, played only once the
    /// question is known to be over (dropped if the turn is abandoned).
    pub turn: Arc<TurnGate>,
    /// The last sentence of its answer.
    pub last: bool,
    /// Played after the alarm chime (a timer or reminder ringing).
    pub chime: bool,
    /// The sink of the room it belongs in, when that is not where answers
    /// play now (an alarm set in the kitchen rings in the kitchen).
    pub sink: Option<String>,
}

/// Feeds the speaker thread.
#[derive(Clone)]
pub struct Speaker {
    sentences: SyncSender<Sentence>,
    pub epoch: Arc<AtomicU64>,
    /// Whether HausKI is speaking, so `tts.start` and `tts.stop` come in pairs.
    speaking: Arc<AtomicBool>,
    state: SharedAssistant,
}

impl Speaker {
    pub fn start(
        voice: Arc<Mutex<PiperVoice>>,
        playback: Arc<Playback>,
        state: SharedAssistant,
    ) -> std::io::Result<Self> {
        // A few sentences ahead of the voice is plenty; the LLM waits beyond.
        let (sentences, receiver) = sync_channel::<Sentence>(8);
        let speaker = Self {
            sentences,
            epoch: Arc::new(AtomicU64::new(0)),
            speaking: Arc::default(),
            state,
        };
        let thread_speaker = speaker.clone();
        std::thread::Builder::new()
            .name("speaker".into())
            .spawn(move || speak(&voice, &playback, &receiver, &thread_speaker))?;
        Ok(speaker)
    }

    /// Playback stopped: the answer played out, or was cut off.
    pub fn stopped(&self, interrupted: bool) {
        if self.speaking.swap(false, Ordering::SeqCst) {
            self.state.bus.publish(Event::TtsStop { interrupted });
        }
    }

    /// Whether HausKI is speaking (from the first audio of an answer until it played out).
    pub fn is_speaking(&self) -> bool {
        self.speaking.load(Ordering::SeqCst)
    }

    /// Audio is about to play on `sink`.
    fn speaking(&self, sink: &str) {
        if !self.speaking.swap(true, Ordering::SeqCst) {
            self.state.bus.publish(Event::TtsStart { sink: sink.into() });
        }
    }

    /// Starts a new answer (barge-in or a new question); returns its epoch.
    pub fn next_epoch(&self) -> u64 {
        self.epoch.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub fn current(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    pub fn say(&self, sentence: Sentence) -> bool {
        self.sentences.send(sentence).is_ok()
    }
}

fn speak(voice: &Mutex<PiperVoice>, playback: &Playback, sentences: &Receiver<Sentence>, speaker: &Speaker) {
    let epoch = &speaker.epoch;
    let mut started_epoch = None;
    for sentence in sentences {
        if sentence.epoch != epoch.load(Ordering::SeqCst) {
            continue;
        }
        let _span = tracing::info_span!("tts", chars = sentence.text.len()).entered();
        let first = started_epoch != Some(sentence.epoch);
        let synthesis = std::time::Instant::now();
        let closing_only = sentence.text.trim().is_empty();
        if closing_only && (first || !sentence.last) {
            continue;
        }
        let audio = if closing_only {
            // The answer's sentences all went out before it was known to be
            // over: only its closing pad is left to play.
            voice.lock().unwrap_or_else(|p| p.into_inner()).edge_pad()
        } else {
            let voice = voice.lock().unwrap_or_else(|p| p.into_inner());
            // A live sink plays silence between answers already: the first
            // sentence starts at once (a file answer opens with a pad).
            let mut audio = if first { Vec::new() } else { voice.sentence_gap() };
            if sentence.chime {
                audio.extend(hauski_audio::tones::chime(voice.sample_rate()));
            }
            match voice.synthesize(&sentence.text) {
                Ok(speech) if first && !sentence.chime => {
                    audio.extend_from_slice(without_lead_in(&speech, voice.sample_rate()))
                }
                Ok(speech) => audio.extend(speech),
                Err(e) => {
                    tracing::error!(error = %e, "could not speak a sentence");
                    continue;
                }
            }
            if sentence.last {
                audio.extend(voice.edge_pad());
            }
            audio
        };
        if first {
            let ms = synthesis.elapsed().as_secs_f64() * 1000.0;
            speaker.state.observe_stage("tts_first_audio", ms);
        }
        let Some(speech_end) = sentence.turn.wait() else {
            tracing::debug!(text = %sentence.text, "speculative sentence dropped: the speaker went on");
            continue;
        };
        // Barge-in may have come while Piper worked.
        if sentence.epoch != epoch.load(Ordering::SeqCst) {
            continue;
        }
        let active = super::active_profile(&speaker.state)
            .map(|p| p.sink)
            .unwrap_or_default();
        match sentence.sink.as_deref().filter(|sink| *sink != active) {
            Some(room) => {
                speaker.speaking(room);
                play_in(playback, room, &active, &audio);
            }
            None => {
                // A profile switch made just before (by this very answer's
                // request) may not have reached playback yet.
                playback.set_sink(&active);
                // A closing pad is silence: if the words played out before
                // it came, HausKI has stopped speaking already.
                if !closing_only {
                    speaker.speaking(&active);
                }
                playback.play(&audio);
            }
        }
        if closing_only {
            continue;
        }
        speaker.state.bus.publish(Event::AnswerSentence {
            text: sentence.text.clone(),
        });
        if first {
            started_epoch = Some(sentence.epoch);
            let ms = speech_end.elapsed().as_secs_f64() * 1000.0;
            tracing::info!(speech_end_to_first_audio_ms = ms, "first answer audio queued");
            speaker.state.observe_stage("speech_end_to_first_audio", ms);
        }
        tracing::info!(text = %sentence.text, "spoken");
    }
}

/// Plays `audio` on the sink `room` (an alarm's, a message's) and then
/// turns playback back to `active`: what was queued before plays out where it was meant first,
/// and nothing after it is queued until `audio` has played (the speaker
/// thread waits, as it would between sentences).
fn play_in(playback: &Playback, room: &str, active: &str, audio: &[f32]) {
    const QUEUED_BEFORE: Duration = Duration::from_secs(60);
    let length = Duration::from_secs_f64(audio.len() as f64 / f64::from(playback.rate()));
    playback.wait_drained(QUEUED_BEFORE);
    tracing::debug!(sink = room, "playing in another room");
    playback.set_sink(room);
    playback.play(audio);
    playback.wait_drained(length + Duration::from_secs(5));
    playback.set_sink(active);
    tracing::info!(sink = room, "played in its own room");
}

/// Piper opens each sentence with 40–60 ms of near-silence before the first
/// sound; at the start of an answer that is only a later start. Cut to
/// [`LEAD_IN_KEPT_S`] before the first sample within 34 dB of the peak.
fn without_lead_in(speech: &[f32], rate: u32) -> &[f32] {
    let peak = speech.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    let Some(first) = speech.iter().position(|s| s.abs() > peak * 0.02) else {
        return speech;
    };
    let kept = (LEAD_IN_KEPT_S * rate as f32) as usize;
    &speech[first.saturating_sub(kept)..]
}

/// Near-silence kept before an answer's first sound, so it does not start
/// with a click.
const LEAD_IN_KEPT_S: f32 = 0.01;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lead_in_is_cut_to_ten_milliseconds() {
        let rate = 1000;
        let speech = [vec![0.0001; 60], vec![0.5, -0.4, 0.3], vec![0.0; 5]].concat();
        let trimmed = without_lead_in(&speech, rate);
        assert_eq!(trimmed.len(), 10 + 3 + 5);
        assert!((trimmed[10] - 0.5).abs() < f32::EPSILON);
    }

    #[test]
    fn silence_is_left_alone() {
        let silence = vec![0.0; 100];
        assert_eq!(without_lead_in(&silence, 1000).len(), 100);
    }
}
