//! The speaking end of the loop: sentences in, Piper, the playback queue out.
//! Each answer has an epoch; barge-in starts a new one, and sentences of an
//! older epoch are dropped unspoken.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use hauski_audio::live::Playback;
use hauski_voice::PiperVoice;

use super::turn::Turn;

pub struct Sentence {
    pub epoch: u64,
    pub text: String,
    /// The turn it answers: synthesised at once, played only once the
    /// question is known to be over (dropped if the turn is abandoned).
    pub turn: Arc<Turn>,
    /// The last sentence of its answer.
    pub last: bool,
}

/// Feeds the speaker thread.
#[derive(Clone)]
pub struct Speaker {
    sentences: SyncSender<Sentence>,
    pub epoch: Arc<AtomicU64>,
}

impl Speaker {
    pub fn start(voice: Arc<Mutex<PiperVoice>>, playback: Arc<Playback>) -> std::io::Result<Self> {
        // A few sentences ahead of the voice is plenty; the LLM waits beyond.
        let (sentences, receiver) = sync_channel::<Sentence>(8);
        let epoch = Arc::new(AtomicU64::new(0));
        let current = epoch.clone();
        std::thread::Builder::new()
            .name("speaker".into())
            .spawn(move || speak(&voice, &playback, &receiver, &current))?;
        Ok(Self { sentences, epoch })
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

fn speak(voice: &Mutex<PiperVoice>, playback: &Playback, sentences: &Receiver<Sentence>, epoch: &AtomicU64) {
    let mut started_epoch = None;
    for sentence in sentences {
        if sentence.epoch != epoch.load(Ordering::SeqCst) {
            continue;
        }
        let _span = tracing::info_span!("tts", chars = sentence.text.len()).entered();
        let first = started_epoch != Some(sentence.epoch);
        let audio = {
            let voice = voice.lock().unwrap_or_else(|p| p.into_inner());
            // A live sink plays silence between answers already: the first
            // sentence starts at once (a file answer opens with a pad).
            let mut audio = if first { Vec::new() } else { voice.sentence_gap() };
            match voice.synthesize(&sentence.text) {
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
        let Some(speech_end) = sentence.turn.wait() else {
            tracing::debug!(text = %sentence.text, "speculative sentence dropped: the speaker went on");
            continue;
        };
        // Barge-in may have come while Piper worked.
        if sentence.epoch != epoch.load(Ordering::SeqCst) {
            continue;
        }
        playback.play(&audio);
        if first {
            started_epoch = Some(sentence.epoch);
            let ms = speech_end.elapsed().as_secs_f64() * 1000.0;
            tracing::info!(speech_end_to_first_audio_ms = ms, "first answer audio queued");
        }
        tracing::info!(text = %sentence.text, "spoken");
    }
}
