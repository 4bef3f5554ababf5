//! A Piper voice: its JSON config and its ONNX model in one ONNX Runtime session.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::session::Session;
use ort::value::Tensor;
use serde::Deserialize;

use super::phonemes::phonemize;
use crate::VoiceError;

#[derive(Debug, Deserialize)]
struct VoiceConfig {
    audio: AudioConfig,
    espeak: EspeakConfig,
    #[serde(default)]
    inference: InferenceConfig,
    phoneme_id_map: HashMap<String, Vec<i64>>,
}

#[derive(Debug, Deserialize)]
struct AudioConfig {
    sample_rate: u32,
}

#[derive(Debug, Deserialize)]
struct EspeakConfig {
    voice: String,
}

#[derive(Debug, Deserialize)]
struct InferenceConfig {
    noise_scale: f32,
    length_scale: f32,
    noise_w: f32,
}

impl Default for InferenceConfig {
    fn default() -> Self {
        Self {
            noise_scale: 0.667,
            length_scale: 1.0,
            noise_w: 0.8,
        }
    }
}

/// A loaded Piper voice. Synthesis takes `&self`; the ONNX session is behind a
/// lock because ort's `run` needs exclusive access.
pub struct PiperVoice {
    config: VoiceConfig,
    session: Mutex<Session>,
    model_path: PathBuf,
    /// Divides the voice's length scale: > 1 speaks faster.
    speaking_rate: f32,
    /// Output gain, 0.0 to 1.0.
    volume: f32,
    /// Scales the voice's sampling noise (`noise_scale`, `noise_w`): 1.0 is the
    /// voice's own liveliness, lower is steadier and clearer.
    variation: f32,
}

/// Silence put between sentences, as a speaker would pause.
const SENTENCE_GAP_S: f32 = 0.15;
/// Silence before the first and after the last sentence of an answer. Sinks
/// that wake on audio (Bluetooth, suspended PipeWire nodes) clip the first
/// fraction of a second, and listeners, Whisper included, mishear a first
/// word that starts with no lead-in ("kitchen" → "catch and").
const EDGE_PAD_S: f32 = 0.25;

impl PiperVoice {
    /// Loads `model` (the `.onnx`) and its `.onnx.json` beside it, on the
    /// process's ONNX Runtime (loaded first if no engine has yet).
    pub fn load(model: &Path, threads: usize) -> Result<Self, VoiceError> {
        let _span = tracing::info_span!("tts_load", model = %model.display()).entered();
        let config_path = PathBuf::from(format!("{}.json", model.display()));
        for path in [model, config_path.as_path()] {
            if !path.is_file() {
                return Err(VoiceError::ModelMissing {
                    path: path.to_path_buf(),
                    hint: "piper-joe".into(),
                });
            }
        }
        let fail = |reason: String| VoiceError::VoiceLoad {
            path: model.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(&config_path).map_err(|e| fail(e.to_string()))?;
        let config: VoiceConfig =
            serde_json::from_str(&text).map_err(|e| fail(format!("{}: {e}", config_path.display())))?;
        hauski_onnxruntime::ensure()?;
        let session = Session::builder()
            .map_err(|e| fail(e.to_string()))?
            .with_intra_threads(threads.max(1))
            .map_err(|e| fail(e.to_string()))?
            .commit_from_file(model)
            .map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            config,
            session: Mutex::new(session),
            model_path: model.to_path_buf(),
            speaking_rate: 1.0,
            volume: 1.0,
            variation: 1.0,
        })
    }

    /// Sets the speaking rate: 1.0 is the voice's own pace, 1.2 is 20 % faster.
    pub fn set_speaking_rate(&mut self, rate: f32) {
        self.speaking_rate = rate.clamp(0.25, 4.0);
    }

    pub fn speaking_rate(&self) -> f32 {
        self.speaking_rate
    }

    /// Sets how much the voice varies from one synthesis to the next: 1.0 is
    /// the voice as trained; 0.5 halves its noise, which the small Whisper
    /// model (and people across a room) understand more reliably.
    pub fn set_variation(&mut self, variation: f32) {
        self.variation = variation.clamp(0.0, 1.0);
    }

    /// Sets the output gain (0.0 silent, 1.0 the voice's own level).
    pub fn set_volume(&mut self, volume: f32) {
        self.volume = volume.clamp(0.0, 1.0);
    }

    pub fn sample_rate(&self) -> u32 {
        self.config.audio.sample_rate
    }

    pub fn model_path(&self) -> &Path {
        &self.model_path
    }

    /// Speaks one sentence (or any short text) and returns mono PCM at
    /// [`Self::sample_rate`].
    pub fn synthesize(&self, text: &str) -> Result<Vec<f32>, VoiceError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(VoiceError::EmptyText);
        }
        let _span = tracing::debug_span!("tts", chars = text.len()).entered();
        let ipa = phonemize(text, &self.config.espeak.voice)?;
        let ids = self.phoneme_ids(&ipa);
        if ids.len() <= 3 {
            // Only BOS/pad/EOS: nothing pronounceable (e.g. text of emoji).
            return Ok(Vec::new());
        }
        self.infer(ids)
    }

    /// Speaks `text` sentence by sentence, handing each sentence's audio to
    /// `on_chunk` as soon as it is ready, so playback can start early.
    pub fn synthesize_stream(
        &self,
        text: &str,
        mut on_chunk: impl FnMut(&[f32]) -> Result<(), VoiceError>,
    ) -> Result<(), VoiceError> {
        let sentences = crate::split_sentences(text);
        if sentences.is_empty() {
            return Err(VoiceError::EmptyText);
        }
        let last = sentences.len() - 1;
        for (i, sentence) in sentences.iter().enumerate() {
            let speech = self.synthesize(sentence)?;
            let mut audio = if i == 0 { self.edge_pad() } else { Vec::new() };
            audio.extend_from_slice(&speech);
            audio.extend(if i == last {
                self.edge_pad()
            } else {
                self.sentence_gap()
            });
            on_chunk(&audio)?;
        }
        Ok(())
    }

    /// The pause between two sentences.
    pub fn sentence_gap(&self) -> Vec<f32> {
        self.silence(SENTENCE_GAP_S)
    }

    /// The silence that opens and closes an answer.
    pub fn edge_pad(&self) -> Vec<f32> {
        self.silence(EDGE_PAD_S)
    }

    /// Seconds of edge padding in an answer (both ends), for measuring speech alone.
    pub fn padding_s(&self) -> f64 {
        2.0 * f64::from(EDGE_PAD_S)
    }

    fn silence(&self, seconds: f32) -> Vec<f32> {
        vec![0.0; (seconds * self.sample_rate() as f32) as usize]
    }

    /// Speaks all of `text` into one buffer.
    pub fn synthesize_all(&self, text: &str) -> Result<Vec<f32>, VoiceError> {
        let mut all = Vec::new();
        self.synthesize_stream(text, |chunk| {
            all.extend_from_slice(chunk);
            Ok(())
        })?;
        Ok(all)
    }

    /// Piper's id layout: BOS, pad, then each phoneme followed by pad, then EOS.
    fn phoneme_ids(&self, ipa: &str) -> Vec<i64> {
        let map = &self.config.phoneme_id_map;
        let id = |s: &str| map.get(s).cloned().unwrap_or_default();
        let pad = id("_");
        let mut ids = id("^");
        ids.extend(&pad);
        let mut buf = [0u8; 4];
        for c in ipa.chars() {
            match map.get(c.encode_utf8(&mut buf) as &str) {
                Some(phoneme) => {
                    ids.extend(phoneme);
                    ids.extend(&pad);
                }
                None => tracing::trace!(phoneme = %c, "phoneme not in voice, skipped"),
            }
        }
        ids.extend(id("$"));
        ids
    }

    fn infer(&self, ids: Vec<i64>) -> Result<Vec<f32>, VoiceError> {
        let fail = |e: ort::Error| VoiceError::Synthesis(e.to_string());
        let n = ids.len();
        let inference = &self.config.inference;
        let input = Tensor::from_array(([1usize, n], ids)).map_err(fail)?;
        let lengths = Tensor::from_array(([1usize], vec![n as i64])).map_err(fail)?;
        let scales = Tensor::from_array((
            [3usize],
            vec![
                inference.noise_scale * self.variation,
                inference.length_scale / self.speaking_rate,
                inference.noise_w * self.variation,
            ],
        ))
        .map_err(fail)?;
        let mut session = self
            .session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let outputs = session
            .run(ort::inputs!["input" => input, "input_lengths" => lengths, "scales" => scales])
            .map_err(fail)?;
        let (_, audio) = outputs[0].try_extract_tensor::<f32>().map_err(fail)?;
        Ok(audio.iter().map(|s| s * self.volume).collect())
    }
}
