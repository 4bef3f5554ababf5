//! The wake words HausKI listens for: the `wake` entries of models.yml whose
//! files are present ("hey hauski" ships in `assets/`), run by the
//! `hauski-wake` helper (rustpotter).

use std::path::{Path, PathBuf};

use hauski_voice::ASR_RATE;
use hauski_voice::wake::{WakeDetection, WakeEngine, WakeSettings};

use crate::config::ModelKind;
use crate::engines::App;

pub struct WakeWords {
    /// (models.yml id, file)
    entries: Vec<(String, PathBuf)>,
    program: Option<PathBuf>,
    settings: WakeSettings,
}

impl WakeWords {
    pub fn load(app: &App) -> Self {
        let entries = app
            .config
            .models
            .models
            .iter()
            .filter(|m| m.kind == ModelKind::Wake)
            .filter_map(|m| {
                let path = app.model_path(m);
                if path.is_file() {
                    Some((m.id.clone(), path))
                } else {
                    tracing::warn!(id = %m.id, path = %path.display(), "wake word file missing; run scripts/enrol-wake.sh");
                    None
                }
            })
            .collect();
        let program = find_wake_engine();
        if program.is_none() {
            tracing::warn!("wake-word engine hauski-wake not found; wake words are off (see README)");
        }
        let w = &app.config.limits.wake;
        Self {
            entries,
            program,
            settings: WakeSettings {
                threshold: w.threshold,
                avg_threshold: w.avg_threshold,
                min_scores: w.min_scores,
                eager: false,
            },
        }
    }

    /// Each wake word's id and the phrase it stands for ("hey-hauski" → "hey hauski").
    pub fn names(&self) -> Vec<(String, String)> {
        if self.program.is_none() {
            return Vec::new();
        }
        self.entries
            .iter()
            .map(|(id, _)| (id.clone(), id.replace(['-', '_'], " ")))
            .collect()
    }

    /// An engine for the wake words named (all when `names` is empty).
    pub fn engine(&self, names: &[String]) -> Result<WakeEngine, String> {
        let program = self
            .program
            .clone()
            .ok_or("the wake-word engine hauski-wake is not built; run scripts/install-deps.sh")?;
        let chosen: Vec<(String, PathBuf)> = self
            .entries
            .iter()
            .filter(|(id, _)| names.is_empty() || names.contains(id))
            .cloned()
            .collect();
        if chosen.is_empty() {
            let known: Vec<&str> = self.entries.iter().map(|(id, _)| id.as_str()).collect();
            return Err(format!(
                "no wake word called {}; known: {}",
                names.join(", "),
                if known.is_empty() {
                    "none (run scripts/enrol-wake.sh)".to_string()
                } else {
                    known.join(", ")
                }
            ));
        }
        WakeEngine::new(program, chosen, self.settings).map_err(|e| e.to_string())
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

/// `HAUSKI_WAKE_ENGINE`, else an installed `../lib/hauski/hauski-wake`, else
/// `hauski-wake` beside this binary (or one level up, for test binaries in
/// target/debug/deps), else on PATH.
pub fn find_wake_engine() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("HAUSKI_WAKE_ENGINE") {
        return Some(PathBuf::from(path));
    }
    let exe = std::env::current_exe().ok()?;
    let installed = exe
        .parent()
        .map(|bin| bin.join("../lib/hauski/hauski-wake"))
        .filter(|p| p.is_file());
    let beside = installed.or_else(|| {
        exe.ancestors()
            .skip(1)
            .take(2)
            .map(|dir| dir.join("hauski-wake"))
            .find(|p| p.is_file())
    });
    beside.or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("hauski-wake"))
                .find(|p| Path::new(p).is_file())
        })
    })
}
