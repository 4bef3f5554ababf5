//! The wake words HausKI listens for: the `wake` entries of models.yml whose
//! classifiers are present ("hey hauski" ships in `assets/`), over the two
//! `wake-features` models (fetched by scripts/fetch-wake-features.sh), loaded
//! once on first use and shared by every door.

use std::path::PathBuf;
use std::sync::OnceLock;

use hauski_voice::ASR_RATE;
use hauski_voice::wake::{WakeDetection, WakeEngine, WakeFeatureFiles, WakeSettings};

use crate::config::ModelKind;
use crate::engines::App;

/// models.yml ids of the two feature models.
const MELSPECTROGRAM: &str = "wake-melspectrogram";
const EMBEDDING: &str = "wake-embedding";

pub struct WakeWords {
    /// (models.yml id, classifier file)
    entries: Vec<(String, PathBuf)>,
    features: Result<WakeFeatureFiles, String>,
    settings: WakeSettings,
    /// Every wake word, loaded on first use.
    loaded: OnceLock<Result<WakeEngine, String>>,
}

impl WakeWords {
    pub fn load(app: &App) -> Self {
        let models = &app.config.models;
        let entries = models
            .models
            .iter()
            .filter(|m| m.kind == ModelKind::Wake)
            .filter_map(|m| {
                let path = app.model_path(m);
                if path.is_file() {
                    Some((m.id.clone(), path))
                } else {
                    tracing::warn!(id = %m.id, path = %path.display(), "wake word file missing; run scripts/train-wake.py");
                    None
                }
            })
            .collect();
        let feature = |id: &str| {
            let entry = models
                .find(id)
                .ok_or_else(|| format!("models.yml has no {id} entry (the wake-word feature model)"))?;
            let path = app.model_path(entry);
            if path.is_file() {
                Ok(path)
            } else {
                Err(format!(
                    "the wake-word feature model {} is missing; run scripts/fetch-wake-features.sh",
                    path.display()
                ))
            }
        };
        let features = feature(MELSPECTROGRAM).and_then(|melspectrogram| {
            Ok(WakeFeatureFiles {
                melspectrogram,
                embedding: feature(EMBEDDING)?,
            })
        });
        if let Err(why) = &features {
            tracing::warn!("{why}; wake words are off");
        }
        Self {
            entries,
            features,
            settings: app.config.limits.wake.settings(),
            loaded: OnceLock::new(),
        }
    }

    /// Each wake word's id and the phrase it stands for ("hey-hauski" → "hey hauski").
    pub fn names(&self) -> Vec<(String, String)> {
        if self.features.is_err() {
            return Vec::new();
        }
        self.entries
            .iter()
            .map(|(id, _)| (id.clone(), id.replace(['-', '_'], " ")))
            .collect()
    }

    /// An engine for the wake words named (all when `names` is empty).
    pub fn engine(&self, names: &[String]) -> Result<WakeEngine, String> {
        let unknown: Vec<&String> = names
            .iter()
            .filter(|n| !self.entries.iter().any(|(id, _)| id == *n))
            .collect();
        if !unknown.is_empty() || self.entries.is_empty() {
            let known: Vec<&str> = self.entries.iter().map(|(id, _)| id.as_str()).collect();
            return Err(format!(
                "no wake word called {}; known: {}",
                names.join(", "),
                if known.is_empty() {
                    "none (run scripts/train-wake.py)".to_string()
                } else {
                    known.join(", ")
                }
            ));
        }
        let all = self
            .loaded
            .get_or_init(|| {
                let features = self.features.clone()?;
                WakeEngine::load(&features, self.entries.clone(), self.settings).map_err(|e| e.to_string())
            })
            .clone()?;
        let chosen: Vec<&str> = names.iter().map(String::as_str).collect();
        Ok(all.only(&chosen))
    }

    /// An engine for one classifier file instead of models.yml's wake words.
    pub fn engine_for_file(&self, file: &std::path::Path) -> Result<WakeEngine, String> {
        let features = self.features.clone()?;
        let name = file
            .file_stem()
            .map_or_else(|| "wake".to_string(), |s| s.to_string_lossy().into_owned());
        WakeEngine::load(&features, vec![(name, file.to_path_buf())], self.settings)
            .map_err(|e| e.to_string())
    }

    /// The first detection in a recording at `rate`.
    pub fn detect(
        &self,
        samples: &[f32],
        rate: u32,
        names: &[String],
    ) -> Result<Option<WakeDetection>, String> {
        let engine = self.engine(names)?;
        let samples = hauski_audio::resample(samples, rate, ASR_RATE).map_err(|e| e.to_string())?;
        Ok(engine
            .scan(&samples)
            .map_err(|e| e.to_string())?
            .into_iter()
            .next())
    }
}
