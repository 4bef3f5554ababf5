//! Speech recognition with whisper.cpp (through whisper-rs).

use std::path::Path;
use std::sync::Mutex;

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
        })
    }

    /// Transcribes 16 kHz mono samples.
    pub fn transcribe(&self, samples: &[f32], rate: u32) -> Result<Transcript, VoiceError> {
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
        state
            .full(params, input)
            .map_err(|e| VoiceError::Asr(e.to_string()))?;
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

/// Whisper writes "[BLANK_AUDIO]", "(music)" and the like for non-speech.
fn is_non_speech_marker(text: &str) -> bool {
    let t = text.trim();
    (t.starts_with('[') && t.ends_with(']')) || (t.starts_with('(') && t.ends_with(')'))
}
