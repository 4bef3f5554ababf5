//! Wake words, in process: openWakeWord's frozen feature models (a mel
//! spectrogram and a speech embedding, see [`features`]) feed one small
//! classifier per wake word (an ONNX model over the last 16 embeddings, 1.3 s,
//! trained by scripts/train-wake.py), all on the ONNX Runtime Piper already
//! loads. A scan reads a recording; a [`WakeStream`] listens live.

mod features;
mod stream;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ort::session::Session;
use serde::{Deserialize, Serialize};

pub use features::WakeFeatureFiles;
use features::{EMBEDDING_SIZE, FeatureModels};
pub use stream::WakeStream;

use crate::VoiceError;

/// Embeddings a classifier reads (16 × 80 ms).
const CLASSIFIER_EMBEDDINGS: usize = 16;

/// When a classifier's score counts as the wake word.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WakeSettings {
    /// Score (0–1) a chunk must reach.
    pub threshold: f32,
    /// Chunks (80 ms each) in a row at or over the threshold before a detection.
    pub patience: usize,
    /// After a detection, the same word is not reported again for this long.
    pub refractory_ms: u64,
}

impl Default for WakeSettings {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            patience: 1,
            refractory_ms: 1500,
        }
    }
}

/// A detection, timed from the start of the audio fed in.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct WakeDetection {
    pub name: String,
    /// When the wake word was recognised (shortly after its end), in ms.
    pub timestamp_ms: u64,
    pub score: f32,
}

/// One wake word's classifier.
struct WakeClassifier {
    name: String,
    session: Mutex<Session>,
}

/// The models every stream of one engine shares.
struct Loaded {
    features: Arc<FeatureModels>,
    words: Vec<Arc<WakeClassifier>>,
}

impl Loaded {
    /// Each wake word's score for the last 16 embeddings (flattened, oldest first).
    fn classify(&self, sequence: &[f32]) -> Result<Vec<f32>, VoiceError> {
        debug_assert_eq!(sequence.len(), CLASSIFIER_EMBEDDINGS * EMBEDDING_SIZE);
        self.words
            .iter()
            .map(|word| {
                let what = format!("wake word {}", word.name);
                let shape = [1, CLASSIFIER_EMBEDDINGS, EMBEDDING_SIZE];
                let score = features::infer(&word.session, &what, "embeddings", shape, sequence.to_vec())?;
                score
                    .first()
                    .copied()
                    .ok_or_else(|| VoiceError::Wake(format!("{what} gave no score")))
            })
            .collect()
    }
}

/// The feature models and the wake words they listen for. Cheap to clone.
#[derive(Clone)]
pub struct WakeEngine {
    models: Arc<Loaded>,
    settings: WakeSettings,
}

impl std::fmt::Debug for WakeEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WakeEngine")
            .field("words", &self.names().collect::<Vec<_>>())
            .field("settings", &self.settings)
            .finish()
    }
}

impl WakeEngine {
    /// Loads the feature models and each wake word's classifier (`name`,
    /// `.onnx` file), on the process's ONNX Runtime.
    pub fn load(
        features: &WakeFeatureFiles,
        words: Vec<(String, PathBuf)>,
        settings: WakeSettings,
    ) -> Result<Self, VoiceError> {
        let _span = tracing::debug_span!("wake_load", words = words.len()).entered();
        if words.is_empty() {
            return Err(VoiceError::Wake("no wake word to listen for".into()));
        }
        let features = Arc::new(FeatureModels::load(features)?);
        let words = words
            .into_iter()
            .map(|(name, file)| {
                Ok(Arc::new(WakeClassifier {
                    session: Mutex::new(features::session(&file)?),
                    name,
                }))
            })
            .collect::<Result<Vec<_>, VoiceError>>()?;
        Ok(Self {
            models: Arc::new(Loaded { features, words }),
            settings,
        })
    }

    /// The same engine listening only for the wake words `names` (all when
    /// empty; unknown names are skipped, so check them first).
    pub fn only(&self, names: &[&str]) -> Self {
        if names.is_empty() {
            return self.clone();
        }
        let words = self
            .models
            .words
            .iter()
            .filter(|w| names.contains(&w.name.as_str()))
            .cloned()
            .collect();
        Self {
            models: Arc::new(Loaded {
                features: self.models.features.clone(),
                words,
            }),
            settings: self.settings,
        }
    }

    /// The same models with other settings.
    pub fn with_settings(mut self, settings: WakeSettings) -> Self {
        self.settings = settings;
        self
    }

    pub fn settings(&self) -> WakeSettings {
        self.settings
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.models.words.iter().map(|w| w.name.as_str())
    }

    /// Every detection in a recording (16 kHz mono).
    pub fn scan(&self, samples: &[f32]) -> Result<Vec<WakeDetection>, VoiceError> {
        let _span = tracing::debug_span!("wake_scan", samples = samples.len()).entered();
        let mut stream = self.stream()?;
        let mut found = stream.push(samples)?;
        found.extend(stream.finish()?);
        Ok(found)
    }

    /// A live detector: push audio as it arrives, detections come back.
    pub fn stream(&self) -> Result<WakeStream, VoiceError> {
        WakeStream::start(self.models.clone(), self.settings)
    }
}
