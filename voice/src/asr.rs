//! Speech recognition with whisper.cpp (through whisper-rs).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState};

use crate::{ASR_RATE, VoiceError};

/// One timed piece of a transcript; times are seconds from the input's start.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transcript {
    pub text: String,
    pub segments: Vec<Segment>,
}

/// A loaded Whisper model with one decoding state.
///
/// The state (whisper.cpp's KV caches and mel buffers, tens of MB) is made once
/// and reused; the lock serialises transcriptions, which each use all threads.
pub struct Transcriber {
    // Kept alive for `state`, which borrows the model's weights.
    _context: WhisperContext,
    state: Mutex<WhisperState>,
    threads: usize,
    language: String,
    /// Words spoken commands use (profile names), given to Whisper as its
    /// initial prompt on the live path only; see [`Self::expect_words`].
    live_prompt: Mutex<Option<String>>,
}

impl Transcriber {
    /// Loads a whisper.cpp model (`ggml-*.bin`). `threads` should be the number
    /// of cores: whisper.cpp does not pick it itself.
    pub fn load(model: &Path, threads: usize, language: &str) -> Result<Self, VoiceError> {
        let _span = tracing::info_span!("asr_load", model = %model.display()).entered();
        if !model.is_file() {
            return Err(VoiceError::ModelMissing {
                path: model.to_path_buf(),
                hint: "whisper-tiny-en".into(),
            });
        }
        whisper_rs::install_logging_hooks();
        let fail = |reason: String| VoiceError::AsrLoad {
            path: model.to_path_buf(),
            reason,
        };
        // Flash attention stays off: on 2 CPU cores it made jfk.wav 15 % slower.
        let context = WhisperContext::new_with_params(model, WhisperContextParameters::default())
            .map_err(|e| fail(format!("{e} (not a whisper.cpp ggml model, or damaged)")))?;
        let state = context.create_state().map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            _context: context,
            state: Mutex::new(state),
            threads: threads.max(1),
            language: language.to_string(),
            live_prompt: Mutex::new(None),
        })
    }

    /// Biases live transcription towards `words` (the profile names a
    /// spoken command may use) through Whisper's initial prompt, on the live
    /// path only: uploads and files are transcribed without it.
    ///
    /// The prompt is the bare names ("Headphones, kitchen, night, living
    /// room."). Measured with the live loop's 512-frame window on 10
    /// espeak-ng voices × 7 phrases (5 switches, 2 questions): 62/70 right
    /// against 57/70 without a prompt. Prompts phrased as commands scored up
    /// to 67/70 there, but in the live loop Whisper then went on writing the
    /// prompt's pattern after the speech ("Switch to the kitchen profile.
    /// Switch to the kitchen"), so a command prompt is not used.
    pub fn expect_words(&self, words: &[String]) {
        let prompt = (!words.is_empty()).then(|| {
            let mut listed = words.join(", ");
            if let Some(first) = listed.get(..1) {
                listed = first.to_uppercase() + &listed[1..];
            }
            listed + "."
        });
        *self.live_prompt.lock().unwrap_or_else(|p| p.into_inner()) = prompt;
    }

    /// Transcribes 16 kHz mono samples.
    pub fn transcribe(&self, samples: &[f32], rate: u32) -> Result<Transcript, VoiceError> {
        self.transcribe_with(samples, rate, &LiveOptions::default())
    }

    /// Transcribes a spoken command in the live loop: a short clip gets a
    /// shorter encoder window, and the work can be abandoned half-way.
    pub fn transcribe_live(
        &self,
        samples: &[f32],
        rate: u32,
        abort: Option<Arc<AtomicBool>>,
    ) -> Result<Transcript, VoiceError> {
        self.transcribe_short(samples, rate, abort, true)
    }

    /// A partial transcript of speech still going on: like
    /// [`Self::transcribe_live`] but never retried with a wider window. A
    /// partial is replaced half a second later, and the retry would hold a
    /// core that the answer needs at the end of speech.
    pub fn transcribe_partial(
        &self,
        samples: &[f32],
        rate: u32,
        abort: Option<Arc<AtomicBool>>,
    ) -> Result<Transcript, VoiceError> {
        self.transcribe_short(samples, rate, abort, false)
    }

    fn transcribe_short(
        &self,
        samples: &[f32],
        rate: u32,
        abort: Option<Arc<AtomicBool>>,
        retry: bool,
    ) -> Result<Transcript, VoiceError> {
        let clip_s = samples.len() / ASR_RATE as usize;
        let fitting = SHORT_WINDOWS
            .iter()
            .position(|(_, longest_s)| clip_s < *longest_s);
        let window_at = |i: Option<usize>| i.and_then(|i| SHORT_WINDOWS.get(i)).map(|(frames, _)| *frames);
        let options = LiveOptions {
            window: window_at(fitting),
            abort,
            prompt: self.live_prompt.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        };
        let mut transcript = self.transcribe_with(samples, rate, &options)?;
        // Now and then a short window hears nothing in a short clip that a
        // wider one understands: worth one more pass before saying so, with
        // the next wider window (the full one only after the widest short
        // one): the full window took 600 ms for a 1.4 s question.
        if retry && transcript.text.is_empty() && options.window.is_some() {
            let wider = LiveOptions {
                window: window_at(fitting.map(|i| i + 1)),
                ..options
            };
            transcript = self.transcribe_with(samples, rate, &wider)?;
        }
        Ok(Transcript {
            text: without_echoes(&transcript.text),
            ..transcript
        })
    }

    fn transcribe_with(
        &self,
        samples: &[f32],
        rate: u32,
        options: &LiveOptions,
    ) -> Result<Transcript, VoiceError> {
        if rate != ASR_RATE {
            return Err(VoiceError::WrongRate {
                stage: "speech recognition",
                expected: ASR_RATE,
                got: rate,
            });
        }
        let _span =
            tracing::info_span!("asr", audio_s = samples.len() as f64 / f64::from(ASR_RATE)).entered();
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(i32::try_from(self.threads).unwrap_or(1));
        params.set_language(Some(&self.language));
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        params.set_no_context(true);
        params.set_suppress_blank(true);
        if let Some(prompt) = &options.prompt {
            params.set_initial_prompt(prompt);
        }
        if let Some(frames) = options.window {
            params.set_audio_ctx(frames);
            // A live command must be answered in bounded time. Whisper's
            // temperature fallback decodes a doubtful clip up to five more
            // times, and a looping decoder runs to its 224-token limit: once
            // 1.5 s for a 1.3 s question, ending in a word that was never
            // said. Greedy once, with a budget of tokens for the clip's length.
            params.set_temperature_inc(0.0);
            params.set_max_tokens(live_token_budget(samples.len()));
        }
        if let Some(abort) = &options.abort {
            // whisper-rs 0.16's `set_abort_callback_safe` hands the C side a
            // pointer to a boxed `dyn FnMut` but reads it back as the closure
            // itself, so the flag it checks is garbage and encoding fails at
            // random (error -6). Hence the raw callback over the flag.
            // SAFETY: the pointer is to the `AtomicBool` inside `abort`, which
            // `options` keeps alive until `full` below has returned; the
            // callback only reads it atomically.
            unsafe {
                params.set_abort_callback(Some(abort_requested));
                params.set_abort_callback_user_data(Arc::as_ptr(abort).cast_mut().cast());
            }
        }

        // Whisper needs at least one second of input; pad short clips with silence.
        let min = ASR_RATE as usize + ASR_RATE as usize / 10;
        let padded;
        let input = if samples.len() < min {
            padded = [samples, &vec![0.0; min - samples.len()]].concat();
            &padded[..]
        } else {
            samples
        };

        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let done = state.full(params, input);
        if options.abort.as_ref().is_some_and(|a| a.load(Ordering::Relaxed)) {
            return Err(VoiceError::Aborted);
        }
        done.map_err(|e| VoiceError::Asr(e.to_string()))?;
        let mut segments = Vec::new();
        for i in 0..state.full_n_segments() {
            let Some(segment) = state.get_segment(i) else {
                continue;
            };
            let text = segment
                .to_str_lossy()
                .map_err(|e| VoiceError::Asr(e.to_string()))?
                .trim()
                .to_string();
            if text.is_empty() || is_non_speech_marker(&text) {
                continue;
            }
            segments.push(Segment {
                // whisper.cpp timestamps are in centiseconds.
                start: segment.start_timestamp() as f64 / 100.0,
                end: segment.end_timestamp() as f64 / 100.0,
                text,
            });
        }
        let text = segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Transcript { text, segments })
    }
}

/// Whisper's encoder windows for live commands, in 20 ms frames, with the
/// longest clip each serves (2 s of margin). Whisper reads a 30 s window
/// (1500 frames) whatever the clip's length; on 20 synthesised questions with
/// tiny.en on 2 cores, 512 and 768 frames gave the same word error rate as the
/// full window (0.15 and 0.19 against 0.20, differences of a word or two) in
/// 31 % and 46 % of the time, while 384 frames or fewer drifted into
/// repetitions ("road road road"). So the window is one of two fixed sizes,
/// not fitted tightly to each clip; longer clips get the full window.
const SHORT_WINDOWS: [(i32, usize); 2] = [(512, 8), (768, 14)];

/// Tokens a live transcript of `samples` may take: fast speech is about four
/// words, five or six tokens, a second; twice that plus a margin leaves room
/// for numbers and names and still stops a decoder that repeats itself.
fn live_token_budget(samples: usize) -> i32 {
    let seconds = samples / ASR_RATE as usize + 1;
    i32::try_from(12 * seconds + 16).unwrap_or(i32::MAX)
}

/// whisper.cpp's abort callback: `flag` is the `AtomicBool` of `LiveOptions::abort`.
unsafe extern "C" fn abort_requested(flag: *mut std::ffi::c_void) -> bool {
    // SAFETY: set in `transcribe_with` to a live `AtomicBool` for the whole call.
    let flag = unsafe { &*(flag as *const AtomicBool) };
    flag.load(Ordering::Relaxed)
}

#[derive(Default)]
struct LiveOptions {
    /// Encoder frames, when fewer than Whisper's 1500.
    window: Option<i32>,
    /// Set from another thread to give up (a partial transcript no longer needed).
    abort: Option<Arc<AtomicBool>>,
    /// Whisper's initial prompt: words the speech is likely to hold.
    prompt: Option<String>,
}

/// The text with a sentence that repeats the one before it dropped: on a
/// short clip Whisper sometimes writes the same words twice ("Never mind.
/// Never mind.") for a command said once.
fn without_echoes(text: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for sentence in text.split_inclusive(['.', '?', '!']) {
        let key = |s: &str| s.trim().trim_end_matches(['.', '?', '!']).to_lowercase();
        // The same sentence again, or the start of it cut off: Whisper
        // running on past the speech.
        let echoes = |last: &&str| {
            let (last, this) = (key(last), key(sentence));
            !this.is_empty()
                && (last == this
                    || (sentence.trim_end().ends_with(|c: char| c.is_alphanumeric())
                        && last.starts_with(&this)))
        };
        if kept.last().is_some_and(echoes) {
            continue;
        }
        kept.push(sentence);
    }
    kept.concat().trim().to_string()
}

/// Whisper writes "[BLANK_AUDIO]", "(music)" and the like for non-speech.
fn is_non_speech_marker(text: &str) -> bool {
    let t = text.trim();
    (t.starts_with('[') && t.ends_with(']')) || (t.starts_with('(') && t.ends_with(')'))
}

#[cfg(test)]
mod tests {
    use super::without_echoes;

    #[test]
    fn a_repeated_sentence_is_kept_once() {
        assert_eq!(without_echoes("Never mind. Never mind."), "Never mind.");
        assert_eq!(without_echoes("Stop. stop!"), "Stop.");
        assert_eq!(
            without_echoes("Switch to the kitchen profile. Switch to the kitchen"),
            "Switch to the kitchen profile."
        );
        assert_eq!(
            without_echoes("Turn it up. Turn it up and down."),
            "Turn it up. Turn it up and down."
        );
        assert_eq!(
            without_echoes("What is the capital of France?"),
            "What is the capital of France?"
        );
        assert_eq!(without_echoes("No. Yes. No."), "No. Yes. No.");
    }
}
