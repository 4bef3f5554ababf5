//! What every handler shares: the engines (loaded once, also used by the voice
//! loop), the limits, the active profile and the metrics.

use std::sync::{Arc, Mutex};

use hauski_brain::Embedder;
use hauski_voice::{PiperVoice, Transcriber};

use super::metrics::Metrics;
use crate::config::policies::ApiLimits;
use crate::config::{Config, ModelRoots};
use crate::llm_pool::LlmPool;
use crate::notes_context::NotesIndex;
use crate::profile_state::ActiveProfile;
use crate::wake_words::WakeWords;

/// Engines the API serves. Each is optional so the API still answers (with a
/// clear 503) when a model is missing, instead of refusing to start.
pub struct Engines {
    pub llm: Option<LlmPool>,
    pub embedder: Option<Arc<Embedder>>,
    pub transcriber: Option<Arc<Transcriber>>,
    /// Synthesis is serialised: one ONNX session, and the profile's voice
    /// settings change it.
    pub voice: Option<Arc<Mutex<PiperVoice>>>,
    /// Ids from models.yml of what is loaded, by stage.
    pub loaded: Vec<(String, &'static str)>,
}

pub struct ApiState {
    pub config: Config,
    /// Where model files are looked up (for `/v1/models`).
    pub app_roots: ModelRoots,
    pub engines: Engines,
    pub profile: ActiveProfile,
    pub notes: Option<Arc<NotesIndex>>,
    pub wake_words: Arc<WakeWords>,
    pub metrics: Metrics,
    /// When set, every route but /healthz needs `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

impl ApiState {
    pub fn limits(&self) -> &ApiLimits {
        &self.config.limits.api
    }
}

pub type SharedState = Arc<ApiState>;
