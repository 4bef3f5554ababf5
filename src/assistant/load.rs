//! Assembling the daemon: every engine loaded once (a missing model turns
//! its doors' answers into clear errors, the rest still serves), the notes
//! index with its watcher, the active profile.

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use hauski_brain::memory::{Clock, SystemClock};

use super::metrics::Metrics;
use super::{Assistant, LoadedEngines, SharedAssistant};
use crate::engines::App;
use crate::llm_pool::LlmPool;
use crate::notes_context::{NotesIndex, lower_thread_priority, watch_notes};
use crate::profile_state::ActiveProfile;

impl Assistant {
    /// Loads every engine once and opens the notes index (watched from here
    /// on), the active profile and the wake words: the daemon every door shares.
    pub fn load(app: &App) -> Result<SharedAssistant> {
        let metrics = Metrics::new();
        let bus = super::bus::Bus::new();
        let stages = Arc::new(super::budgets::Stages::new(
            super::budgets::BudgetGuard::new(app.config.limits.stage_budgets_ms.clone()),
            &metrics,
            bus.clone(),
        ));
        app.audit("hauski", "config loaded", &config_digest(app));
        let engines = load_engines(app, &metrics, &stages)?;
        for (id, stage) in &engines.loaded {
            app.audit("hauski", "model loaded", &format!("{stage}: {id}"));
        }
        let notes = open_notes(app, &engines)?;
        let profile = ActiveProfile::load(app.config.profiles.clone(), &app.data_dir);
        tracing::info!(profile = %profile.name(), "active audio profile");
        let health = super::health::Health::default();
        report_engines(&engines, &health);
        guard_the_gpu(app, &metrics);
        let everyday = app
            .open_everyday(bus.clone())
            .map_err(|e| tracing::warn!(error = %format!("{e:#}"), "timers, reminders and lists are off"))
            .ok()
            .map(Arc::new);
        if let Some(everyday) = &everyday {
            everyday.start_ringing(bus.clone())?;
            everyday.deliverer().start_releasing()?;
        }
        Ok(Arc::new(Self {
            model_roots: app.roots.clone(),
            config: app.config.clone(),
            engines,
            profile,
            notes,
            wake_words: Arc::new(crate::wake_words::WakeWords::load(app)),
            metrics,
            memory: app
                .open_memory()
                .map_err(|e| tracing::warn!(error = %format!("{e:#}"), "memory is off"))
                .ok()
                .map(|m| Arc::new(Mutex::new(m))),
            bus,
            health,
            pending_choice: super::intents::PendingChoice::default(),
            everyday,
            recordings: open_recordings(app),
            stages,
        }))
    }
}

/// Starts the GPU guard where an NVIDIA GPU exists; says once that there
/// is none otherwise, and stays quiet.
fn guard_the_gpu(app: &App, metrics: &Metrics) {
    use crate::gpu_guard::{self, NvmlSensor};
    let sensor = match NvmlSensor::first() {
        Ok(sensor) => sensor,
        Err(reason) => {
            tracing::info!(%reason, "no GPU to guard; batch work runs unguarded");
            return;
        }
    };
    let (temperature, power, memory, paused) = (
        metrics.gpu_temperature_celsius.clone(),
        metrics.gpu_power_watts.clone(),
        metrics.gpu_memory_used_bytes.clone(),
        metrics.batch_paused.clone(),
    );
    let report: gpu_guard::Report = Box::new(move |sample, is_paused| {
        temperature.set(sample.temperature_c);
        power.set(sample.power_w);
        memory.set(sample.vram_used_mib * 1024.0 * 1024.0);
        paused.set(i64::from(is_paused));
    });
    let limits = app.config.limits.gpu.clone();
    if let Err(e) = gpu_guard::start(Box::new(sensor), limits, gpu_guard::batch_gate(), report) {
        tracing::warn!(error = %e, "the GPU guard did not start");
    }
}

/// The owner's config files and their SHA-256 (first 16 digits), so a
/// change between two starts stands in the audit log.
fn config_digest(app: &App) -> String {
    use sha2::{Digest, Sha256};
    let Some(dir) = &app.config.dir else {
        return "built-in defaults only".into();
    };
    let owned: Vec<String> = crate::config::FILES
        .iter()
        .filter_map(|(name, _)| {
            let bytes = std::fs::read(dir.join(name)).ok()?;
            Some(format!("{name} {}", &hex::encode(Sha256::digest(&bytes))[..16]))
        })
        .collect();
    if owned.is_empty() {
        format!("built-in defaults only ({} holds none)", dir.display())
    } else {
        format!("{}: {}", dir.display(), owned.join(", "))
    }
}

/// The recordings kept when `recordings.keep` is on, purged of what is
/// past its `ttl` now and every hour; `None` when off or unusable (logged).
fn open_recordings(app: &App) -> Option<Arc<crate::recordings::Recordings>> {
    let policy = &app.config.memory.recordings;
    if !policy.keep {
        return None;
    }
    let opened = policy
        .ttl_ms()
        .map_err(|e| e.to_string())
        .and_then(|ttl| crate::recordings::Recordings::open(&app.data_dir, ttl).map_err(|e| e.to_string()));
    let recordings = match opened {
        Ok(recordings) => Arc::new(recordings),
        Err(error) => {
            tracing::error!(%error, "utterances are not kept");
            return None;
        }
    };
    tracing::info!(dir = %recordings.dir().display(), "utterances are kept, encrypted");
    let purging = recordings.clone();
    let started = std::thread::Builder::new()
        .name("recordings".into())
        .spawn(move || {
            loop {
                if let Err(e) = purging.purge(SystemClock.now_ms(), false) {
                    tracing::warn!(error = %e, "old recordings could not be purged");
                }
                std::thread::sleep(std::time::Duration::from_secs(3600));
            }
        });
    if let Err(e) = started {
        tracing::warn!(error = %e, "old recordings are not purged while the daemon runs");
    }
    Some(recordings)
}

impl Assistant {
    /// Polls the messenger adapters `adapters.yaml` enables. Called once
    /// the doors that read messages aloud listen on the bus: what an
    /// adapter hands over is gone from its server.
    pub fn start_adapters(&self) {
        let Some(everyday) = &self.everyday else {
            return;
        };
        match super::messengers::start_polling(everyday, everyday.adapter_settings()) {
            Ok(adapters) => tracing::info!(?adapters, "messenger adapters"),
            Err(error) => tracing::error!(%error, "the messenger adapters are off"),
        }
    }
}

/// The engines are up when speech recognition, the LLM and the voice are
/// all loaded: without one, a spoken turn cannot be answered.
fn report_engines(engines: &LoadedEngines, health: &super::health::Health) {
    let missing: Vec<&str> = [
        ("speech recognition", engines.transcriber.is_some()),
        ("the LLM", engines.llm.is_some()),
        ("the voice", engines.voice.is_some()),
    ]
    .into_iter()
    .filter_map(|(what, loaded)| (!loaded).then_some(what))
    .collect();
    if missing.is_empty() {
        health.up("engines");
    } else {
        health.set(
            "engines",
            super::health::State::Down,
            format!("{} not loaded (the start-up log says why)", missing.join(", ")),
        );
    }
}

fn load_engines(app: &App, metrics: &Metrics, stages: &Arc<super::budgets::Stages>) -> Result<LoadedEngines> {
    // A missing model turns its endpoints into clear 503s; the rest still
    // serves. ONNX Runtime building the voice's session is the longest load
    // and mostly one core's work, so it runs beside the others.
    let (voice, transcriber, embedder, llm) = std::thread::scope(|scope| {
        let voice = scope.spawn(|| load_voice(app));
        let transcriber = or_off(app.load_transcriber(), "speech recognition is off");
        let embedder = or_off(app.load_embedder(), "embeddings are off");
        let llm = load_llm(app, metrics, stages);
        let voice = voice.join().unwrap_or_else(|_| {
            tracing::error!("loading the voice failed unexpectedly; speech synthesis is off");
            None
        });
        (voice, transcriber, embedder, llm)
    });
    let llm = llm?;
    let mut loaded = Vec::new();
    if transcriber.is_some() {
        loaded.push((
            chosen_id(
                app,
                crate::config::ModelKind::Asr,
                &app.config.models.defaults.asr,
            )?,
            "asr",
        ));
    }
    if let Some((_, id)) = &voice {
        loaded.push((id.clone(), "tts"));
    }
    if embedder.is_some() {
        loaded.push((
            chosen_id(
                app,
                crate::config::ModelKind::Embed,
                &app.config.models.defaults.embed,
            )?,
            "embed",
        ));
    }
    if let Some((_, id)) = &llm {
        loaded.push((id.clone(), "llm"));
    }
    Ok(LoadedEngines {
        llm: llm.map(|(pool, _)| pool),
        embedder,
        transcriber,
        voice: voice.map(|(voice, _)| voice),
        loaded,
    })
}

/// The id in models.yml of the model a stage uses.
fn chosen_id(app: &App, kind: crate::config::ModelKind, preferred: &[String]) -> Result<String> {
    Ok(app.choose(kind, preferred, None)?.public_id().to_string())
}

/// An engine that loaded, or `None` with the reason logged: the daemon
/// serves on without it.
fn or_off<T>(loaded: Result<T>, off: &str) -> Option<Arc<T>> {
    match loaded {
        Ok(engine) => Some(Arc::new(engine)),
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "{off}");
            None
        }
    }
}

/// The voice and its id in models.yml.
fn load_voice(app: &App) -> Option<(Arc<Mutex<hauski_voice::PiperVoice>>, String)> {
    match app.load_voice() {
        Ok(v) => {
            let id = app
                .config
                .models
                .models
                .iter()
                .find(|m| app.model_path(m) == v.model_path())
                .map_or_else(|| "piper".to_string(), |m| m.id.clone());
            Some((Arc::new(Mutex::new(v)), id))
        }
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "speech synthesis is off");
            None
        }
    }
}

/// The LLM's worker pool, reporting each generation to the metrics and the
/// stage budgets, and its id in models.yml.
fn load_llm(
    app: &App,
    metrics: &Metrics,
    stages: &Arc<super::budgets::Stages>,
) -> Result<Option<(LlmPool, String)>> {
    let model = match app.load_llm() {
        Ok(model) => model,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "the LLM is off");
            return Ok(None);
        }
    };
    let id = app.llm_entry()?.id.clone();
    let hook_metrics = (
        metrics.completion_tokens.clone(),
        metrics.prompt_tokens.clone(),
        metrics.generations_cancelled.clone(),
    );
    let stages = stages.clone();
    let on_finished = Arc::new(move |stats: &hauski_brain::GenerationStats| {
        stages.observe_generation(stats);
        hook_metrics.0.inc_by(stats.completion_tokens as u64);
        hook_metrics.1.inc_by(stats.prompt_tokens as u64);
        if stats.finish == hauski_brain::FinishReason::Cancelled {
            hook_metrics.2.inc();
        }
    });
    let limits = &app.config.limits.api;
    let pool = LlmPool::start(
        model,
        id.clone(),
        limits.max_concurrent_generations,
        limits.max_queued_generations,
        on_finished,
    )?;
    Ok(Some((pool, id)))
}

/// The notes index, if any folder was indexed, kept fresh by a watcher thread
/// at low priority.
fn open_notes(app: &App, engines: &LoadedEngines) -> Result<Option<Arc<NotesIndex>>> {
    let Some(embedder) = engines.embedder.clone() else {
        return Ok(None);
    };
    let index = Arc::new(NotesIndex::open(app, embedder)?);
    let roots = index.roots();
    if roots.is_empty() {
        return Ok(Some(index));
    }
    let watched = index.clone();
    std::thread::Builder::new()
        .name("notes-watch".into())
        .spawn(move || {
            lower_thread_priority();
            let result = watch_notes(
                &watched,
                &roots,
                |root, r| {
                    tracing::info!(root = %root.display(), added = r.added, updated = r.updated, removed = r.removed, "notes re-indexed");
                },
                || tracing::info!("watching the notes folders"),
            );
            if let Err(e) = result {
                tracing::error!(error = %format!("{e:#}"), "the notes watcher stopped");
            }
        })
        .context("cannot start the notes watcher")?;
    Ok(Some(index))
}
