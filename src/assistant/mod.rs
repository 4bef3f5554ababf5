//! The assistant core: the daemon's state (engines, active profile, notes
//! index, wake words, metrics) and what every front door does the same way
//! (generation settings, speech synthesis, splitting answers into
//! sentences).
//!
//! Front doors (`api/`, `wyoming/`, `voice_loop/`) depend on this module and
//! never on each other; this module knows none of them.

pub mod generation;
mod load;
pub mod metrics;
pub mod sentences;
mod speech;

use std::sync::{Arc, Mutex};

use hauski_brain::Embedder;
use hauski_voice::{PiperVoice, Transcriber};

use crate::config::{Config, ModelRoots};
use crate::llm_pool::LlmPool;
use crate::notes_context::NotesIndex;
use crate::profile_state::ActiveProfile;
use crate::wake_words::WakeWords;
use metrics::Metrics;

pub use speech::{SpeechError, synthesize};

/// The engines loaded once for the daemon. Each is optional so the doors
/// still answer (with a clear error) when a model is missing, instead of
/// the daemon refusing to start.
pub struct LoadedEngines {
    pub llm: Option<LlmPool>,
    pub embedder: Option<Arc<Embedder>>,
    pub transcriber: Option<Arc<Transcriber>>,
    /// Synthesis is serialised: one ONNX session, and the profile's voice
    /// settings change it.
    pub voice: Option<Arc<Mutex<PiperVoice>>>,
    /// Ids from models.yml of what is loaded, by stage.
    pub loaded: Vec<(String, &'static str)>,
}

/// The daemon: what every door shares.
pub struct Assistant {
    pub config: Config,
    /// Where model files are looked up.
    pub model_roots: ModelRoots,
    pub engines: LoadedEngines,
    pub profile: ActiveProfile,
    pub notes: Option<Arc<NotesIndex>>,
    pub wake_words: Arc<WakeWords>,
    pub metrics: Metrics,
}

pub type SharedAssistant = Arc<Assistant>;
