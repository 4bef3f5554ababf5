//! One live detector: 16 kHz audio in as it arrives, detections out. Keeps
//! the last 2 s of mel frames and the last 16 embeddings (what a classifier
//! reads); while the last 2 s were near-silent it skips the embedding and the
//! classifiers, and catches the missing embeddings up from the kept mel frames
//! when sound returns, so skipping changes no score.

use std::collections::VecDeque;
use std::sync::Arc;

use super::features::{CHUNK, CONTEXT, EMBEDDING_WINDOW, Embedding, MELS_PER_CHUNK, MelFrame};
use super::{CLASSIFIER_EMBEDDINGS, Loaded, WakeDetection, WakeSettings};
use crate::VoiceError;

/// Mel frames kept: what the 16 embeddings a classifier reads were made from.
const MELS_KEPT: usize = EMBEDDING_WINDOW + (CLASSIFIER_EMBEDDINGS - 1) * MELS_PER_CHUNK;
/// Chunks of silence a stream starts after (2 s), as in training.
const LEAD_IN_CHUNKS: usize = 25;
/// Below this RMS (−60 dBFS) in every chunk of the last 2 s, nothing is scored.
const QUIET_RMS: f32 = 0.001;

pub struct WakeStream {
    models: Arc<Loaded>,
    settings: WakeSettings,
    pending: Vec<f32>,
    /// The last [`CONTEXT`] samples of the previous chunk, int16 scale.
    context: Vec<f32>,
    mels: VecDeque<MelFrame>,
    /// The last 16 embeddings; `None` where the stream was quiet.
    embeddings: VecDeque<Option<Embedding>>,
    /// RMS of each of the last 16 chunks.
    loudness: VecDeque<f32>,
    /// Chunks fed since the stream started (after the lead-in).
    chunks: u64,
    /// Per wake word: chunks in a row over the threshold, and the chunk of its last detection.
    over: Vec<usize>,
    last_detection: Vec<Option<u64>>,
    /// The highest score of any word since [`WakeStream::take_peak_score`] last read it.
    peak: f32,
}

impl WakeStream {
    pub(super) fn start(models: Arc<Loaded>, settings: WakeSettings) -> Result<Self, VoiceError> {
        let words = models.words.len();
        let mut stream = Self {
            models,
            settings,
            pending: Vec::with_capacity(CHUNK),
            context: vec![0.0; CONTEXT],
            mels: VecDeque::with_capacity(MELS_KEPT + MELS_PER_CHUNK),
            embeddings: VecDeque::from(vec![None; CLASSIFIER_EMBEDDINGS]),
            loudness: VecDeque::from(vec![0.0; LEAD_IN_CHUNKS]),
            chunks: 0,
            over: vec![0; words],
            last_detection: vec![None; words],
            peak: 0.0,
        };
        let silence = [0.0; CHUNK];
        for _ in 0..LEAD_IN_CHUNKS {
            stream.add_mels(&silence)?;
        }
        Ok(stream)
    }

    /// Feeds 16 kHz mono samples; the wake words heard in them.
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<WakeDetection>, VoiceError> {
        let mut found = Vec::new();
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (CHUNK - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == CHUNK {
                let chunk = std::mem::take(&mut self.pending);
                found.extend(self.step(&chunk)?);
                self.pending = chunk;
                self.pending.clear();
            }
        }
        Ok(found)
    }

    /// The end of the audio: a last partial chunk is completed with silence.
    pub fn finish(&mut self) -> Result<Vec<WakeDetection>, VoiceError> {
        if self.pending.is_empty() {
            return Ok(Vec::new());
        }
        let missing = CHUNK - self.pending.len();
        self.push(&vec![0.0; missing])
    }

    /// Whether a wake word's last chunk was over the threshold without (yet)
    /// the chunks in a row that make a detection: the next chunk decides.
    pub fn undecided(&self) -> bool {
        self.over
            .iter()
            .any(|&over| over > 0 && over < self.settings.patience)
    }

    /// The highest score any wake word reached since the last call: how
    /// close other sounds come (tests, tuning the threshold).
    pub fn take_peak_score(&mut self) -> f32 {
        std::mem::take(&mut self.peak)
    }

    /// Audio fed so far in whole chunks, in ms (the time base of detections).
    pub fn fed_ms(&self) -> u64 {
        self.chunks * CHUNK as u64 * 1000 / u64::from(crate::ASR_RATE)
    }

    fn add_mels(&mut self, chunk: &[f32]) -> Result<(), VoiceError> {
        let mut input = Vec::with_capacity(CONTEXT + CHUNK);
        input.extend_from_slice(&self.context);
        input.extend(chunk.iter().map(|s| s * 32768.0));
        self.context.copy_from_slice(&input[CHUNK..]);
        let frames = self.models.features.mel_frames(&input)?;
        self.mels.extend(frames);
        while self.mels.len() > MELS_KEPT {
            self.mels.pop_front();
        }
        self.embeddings.push_back(None);
        self.embeddings.pop_front();
        Ok(())
    }

    fn step(&mut self, chunk: &[f32]) -> Result<Vec<WakeDetection>, VoiceError> {
        self.add_mels(chunk)?;
        self.chunks += 1;
        let rms = (chunk.iter().map(|s| s * s).sum::<f32>() / chunk.len() as f32).sqrt();
        self.loudness.push_back(rms);
        self.loudness.pop_front();
        if self.loudness.iter().all(|&l| l < QUIET_RMS) {
            self.over.iter_mut().for_each(|o| *o = 0);
            return Ok(Vec::new());
        }
        self.catch_up_embeddings()?;
        let sequence: Vec<f32> = self.embeddings.iter().flatten().flatten().copied().collect();
        let scores = self.models.classify(&sequence)?;
        let mut found = Vec::new();
        for (word, score) in scores.into_iter().enumerate() {
            self.peak = self.peak.max(score);
            if score < self.settings.threshold {
                self.over[word] = 0;
                continue;
            }
            self.over[word] += 1;
            let quiet_since_last = self.last_detection[word].is_none_or(|at| {
                (self.chunks - at) * CHUNK as u64 * 1000 / u64::from(crate::ASR_RATE)
                    >= self.settings.refractory_ms
            });
            if self.over[word] >= self.settings.patience && quiet_since_last {
                self.last_detection[word] = Some(self.chunks);
                found.push(WakeDetection {
                    name: self.models.words[word].name.clone(),
                    timestamp_ms: self.fed_ms(),
                    score,
                });
            }
        }
        Ok(found)
    }

    /// Embeddings for the chunks that were skipped while quiet, in one call.
    fn catch_up_embeddings(&mut self) -> Result<(), VoiceError> {
        let mels = self.mels.make_contiguous();
        let missing: Vec<usize> = (0..CLASSIFIER_EMBEDDINGS)
            .filter(|&i| self.embeddings[i].is_none())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let windows: Vec<&[MelFrame]> = missing
            .iter()
            .map(|&i| {
                let end = mels.len() - (CLASSIFIER_EMBEDDINGS - 1 - i) * MELS_PER_CHUNK;
                &mels[end - EMBEDDING_WINDOW..end]
            })
            .collect();
        let made = self.models.features.embed(&windows)?;
        for (i, embedding) in missing.into_iter().zip(made) {
            self.embeddings[i] = Some(embedding);
        }
        Ok(())
    }
}
