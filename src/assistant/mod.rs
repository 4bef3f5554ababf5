//! The assistant core: the daemon's state (engines, active profile, notes
//! index, wake words, metrics) and what every front door does the same way
//! (generation settings, speech synthesis, splitting answers into
//! sentences).
//!
//! Front doors (`api/`, `wyoming/`, `voice_loop/`) depend on this module and
//! never on each other; this module knows none of them.

pub mod budgets;
pub mod bus;
pub mod context;
pub mod everyday;
pub mod generation;
pub mod health;
pub mod intents;
pub mod listening;
mod load;
pub mod messengers;
pub mod metrics;
pub mod notices;
pub mod reply;
pub mod sentences;
mod skill_turn;
mod speech;
pub mod tools;
pub mod turn_end;
pub mod turn_gate;

use std::sync::{Arc, Mutex};

use hauski_brain::Embedder;
use hauski_brain::memory::MemoryStore;
use hauski_voice::{PiperVoice, Transcriber};

use crate::config::{Config, ModelRoots};
use crate::llm_pool::LlmPool;
use crate::notes_context::NotesIndex;
use crate::profile_state::ActiveProfile;
use crate::wake_words::WakeWords;
use metrics::Metrics;

pub use speech::{SpeechError, synthesize, use_profile};

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
    /// What the owner asked HausKI to remember; `None` when the database
    /// cannot be opened (the log says why).
    pub memory: Option<Arc<Mutex<MemoryStore>>>,
    /// `hauski.*` events: every door publishes what happens here.
    pub bus: bus::Bus,
    /// Which parts work right now (`/healthz`).
    pub health: health::Health,
    /// The profiles HausKI just asked the owner to choose between.
    pub pending_choice: intents::PendingChoice,
    /// Timers, reminders and lists; `None` when their database cannot be
    /// opened (the log says why).
    pub everyday: Option<Arc<everyday::Everyday>>,
    /// Where utterances are kept, encrypted, when the owner keeps them.
    pub recordings: Option<Arc<crate::recordings::Recordings>>,
    /// Each stage's durations: histograms, and rolling p95s against budgets.
    pub stages: Arc<budgets::Stages>,
}

pub type SharedAssistant = Arc<Assistant>;

/// What a door lets a turn draw on and do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allow {
    /// Remembered entries that fit the question go into the prompt.
    pub memories: bool,
    /// Notes that fit the question go into the prompt.
    pub notes: bool,
    /// Spoken commands act: profile switches, timers, lists, "never mind".
    pub intents: bool,
    /// "Remember that …" and "forget …" change the memory.
    pub memory_writes: bool,
}

impl Allow {
    /// Everything: the owner's own voice at home.
    pub const ALL: Self = Self {
        memories: true,
        notes: true,
        intents: true,
        memory_writes: true,
    };

    /// Nothing beyond the question itself.
    pub const NONE: Self = Self {
        memories: false,
        notes: false,
        intents: false,
        memory_writes: false,
    };
}

impl Assistant {
    /// Switches the active profile (a name or a synonym) and says so on the
    /// bus; returns the profile's name.
    pub fn set_profile(&self, name: &str) -> Result<String, crate::profile_state::ProfileError> {
        let name = self.profile.set(name)?;
        self.audit("hauski", "profile switched", &name);
        self.bus.publish(bus::Event::ProfileChanged {
            profile: name.clone(),
        });
        Ok(name)
    }

    /// One duration of `stage` (see [`budgets::Stages::observe`]).
    pub fn observe_stage(&self, stage: &str, ms: f64) {
        self.stages.observe(stage, ms);
    }

    /// Records a decision in the audit log the sandbox writes (with no
    /// skills store, nowhere); a log that cannot be written is logged.
    pub fn audit(&self, actor: &str, decision: &str, detail: &str) {
        let Some(everyday) = &self.everyday else {
            return;
        };
        if let Err(e) = everyday.skills().audit(actor, decision, detail) {
            tracing::error!(error = %e, decision, "the audit log could not be written");
        }
    }

    /// The memories and notes that fit `question`, as far as `allow` lets
    /// it; nothing without an embedding model.
    pub fn context_for(&self, question: &str, allow: Allow) -> anyhow::Result<context::TurnContext> {
        let Some(embedder) = &self.engines.embedder else {
            return Ok(context::TurnContext::default());
        };
        let started = std::time::Instant::now();
        let memory = self
            .memory
            .as_ref()
            .filter(|_| allow.memories)
            .map(|m| m.lock().unwrap_or_else(|p| p.into_inner()));
        let sources = context::ContextSources {
            embedder,
            memory: memory.as_deref(),
            notes: self.notes.as_deref().filter(|_| allow.notes),
            memory_entries: self.config.memory.prompt_entries,
            memory_chars: self.config.memory.prompt_chars,
        };
        let gathered = context::gather(&sources, question);
        self.observe_stage("retrieval", started.elapsed().as_secs_f64() * 1000.0);
        gathered
    }
}
