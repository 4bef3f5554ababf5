//! Finding model files and loading the engines the library crates provide.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Result, anyhow, bail};
use hauski_brain::memory::{MemoryStore, SystemClock};
use hauski_brain::notes::Manifest;
use hauski_brain::retrieval::HybridStore;
use hauski_brain::{Embedder, LanguageModel, LlmConfig};
use hauski_voice::{PiperVoice, Transcriber, VadConfig};

use crate::config::{Config, ModelEntry, ModelKind, ModelRoots};

/// Where configuration, models and data are, and how many threads the
/// engines get; unset, each takes its default. Plain values, so nothing
/// here depends on how the command line is parsed.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    pub config_dir: Option<PathBuf>,
    /// Model roots, ':'-separated.
    pub model_roots: Option<String>,
    pub threads: Option<usize>,
    pub data_dir: Option<PathBuf>,
    /// An LLM id from models.yml instead of the default.
    pub llm: Option<String>,
}

/// The loaded configuration plus where models are: what every command starts from.
pub struct App {
    pub config: Config,
    pub roots: ModelRoots,
    pub threads: usize,
    pub data_dir: PathBuf,
    llm_override: Option<String>,
}

impl App {
    pub fn new(global: &AppOptions) -> Result<Self> {
        let config = Config::load(global.config_dir.as_deref())?;
        let threads = global
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
            .max(1);
        let roots = ModelRoots::resolve(
            global.model_roots.as_deref(),
            &config.models.model_roots,
            config.dir.as_deref(),
        );
        Ok(Self {
            config,
            roots,
            threads,
            data_dir: global
                .data_dir
                .clone()
                .unwrap_or_else(crate::config::default_data_dir),
            llm_override: global.llm.clone(),
        })
    }

    /// The file of model `entry` in the first root that has it.
    pub fn model_path(&self, entry: &ModelEntry) -> PathBuf {
        self.roots.locate(&entry.path)
    }

    /// The model a stage uses: the override, else the first default present on disk.
    pub fn choose(
        &self,
        kind: ModelKind,
        defaults: &[String],
        requested: Option<&str>,
    ) -> Result<&ModelEntry> {
        let models = &self.config.models;
        if let Some(id) = requested {
            let entry = models
                .find(id)
                .ok_or_else(|| anyhow!("unknown model {id:?}; models.yml knows: {}", models.known_ids()))?;
            if entry.kind != kind {
                bail!("model {id:?} is a {:?} model, not {kind:?}", entry.kind);
            }
            return Ok(entry);
        }
        let mut candidates = defaults.iter().filter_map(|id| models.find(id));
        let first = candidates
            .clone()
            .next()
            .ok_or_else(|| anyhow!("models.yml names no default {kind:?} model"))?;
        let chosen = candidates.find(|m| self.model_path(m).is_file()).unwrap_or(first);
        if chosen.id != first.id {
            tracing::warn!(wanted = %first.id, using = %chosen.id, "preferred model missing; using a fallback");
        }
        Ok(chosen)
    }

    pub fn load_transcriber(&self) -> Result<Transcriber> {
        self.load_transcriber_with_threads(self.threads)
    }

    pub fn load_transcriber_with_threads(&self, threads: usize) -> Result<Transcriber> {
        let entry = self.choose(ModelKind::Asr, &self.config.models.defaults.asr, None)?;
        let path = self.model_path(entry);
        Ok(Transcriber::load(&path, threads, "en")?)
    }

    pub fn load_voice(&self) -> Result<PiperVoice> {
        // The active profile decides the voice, its pace and its loudness.
        let profile = self.config.profiles.active_profile();
        let entry = self.choose(
            ModelKind::Tts,
            &self.config.models.defaults.tts,
            profile.map(|p| p.voice.as_str()),
        )?;
        let mut voice = PiperVoice::load(&self.model_path(entry), self.threads)?;
        if let Some(profile) = profile {
            voice.set_speaking_rate(profile.speaking_rate);
            voice.set_volume(profile.volume);
            voice.set_variation(profile.variation);
        }
        Ok(voice)
    }

    /// The LLM in use: `--llm`, else the first default present on disk.
    pub fn llm_entry(&self) -> Result<&ModelEntry> {
        self.choose(
            ModelKind::Llm,
            &self.config.models.defaults.llm,
            self.llm_override.as_deref(),
        )
    }

    pub fn load_llm(&self) -> Result<LanguageModel> {
        let entry = self.llm_entry()?;
        let config = LlmConfig {
            context_tokens: self.config.limits.llm.context_tokens,
            threads: self.threads,
            decode_threads: hauski_brain::decode_threads_for(self.threads),
            ..LlmConfig::default()
        };
        Ok(LanguageModel::load(&self.model_path(entry), config)?)
    }

    /// The embedder: the ONNX graph on ONNX Runtime when models.yml's first
    /// default is present (scripts/export-embedder.sh writes it), else the
    /// safetensors on candle. The tokenizer sits beside the safetensors, in
    /// whichever model root has it.
    pub fn load_embedder(&self) -> Result<Embedder> {
        let entry = self.choose(ModelKind::Embed, &self.config.models.defaults.embed, None)?;
        let path = self.model_path(entry);
        if path.extension().is_some_and(|e| e == "onnx") {
            return Ok(Embedder::load_onnx(
                &path,
                &self.folder_with(entry, "tokenizer.json"),
                self.threads,
            )?);
        }
        Ok(Embedder::load(&self.folder_with(entry, "model.safetensors"))?)
    }

    /// The default embedding model on candle whatever format the defaults
    /// prefer: the bench compares the two engines.
    pub fn load_candle_embedder(&self) -> Result<Embedder> {
        let entry = self.choose(ModelKind::Embed, &self.config.models.defaults.embed, None)?;
        Ok(Embedder::load(&self.folder_with(entry, "model.safetensors"))?)
    }

    /// The folder, in whichever model root has it, of `file` beside `entry`'s
    /// file (the tokenizer and safetensors beside an exported graph).
    fn folder_with(&self, entry: &ModelEntry, file: &str) -> PathBuf {
        let located = self.roots.locate(&entry.path.with_file_name(file));
        located
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }

    /// Where the notes index lives.
    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }

    /// The notes index and its manifest, for an embedder of `dimensions`.
    pub fn open_index(&self, dimensions: usize) -> Result<(HybridStore, Manifest)> {
        let dir = self.index_dir();
        let store = HybridStore::open(&dir, dimensions)?;
        let manifest = Manifest::load(&dir.join("manifest.json"))?;
        Ok((store, manifest))
    }

    /// Records a decision in the audit log under the data dir (the one the
    /// daemon and its sandbox write; appends from several processes are
    /// ordered by a file lock). A log that cannot be written is an error
    /// in the log, not a reason to refuse the command.
    pub fn audit(&self, actor: &str, decision: &str, detail: &str) {
        let recorded = hauski_skills::host::audit::AuditLog::appender(&self.data_dir.join("audit.log"))
            .and_then(|log| log.record(actor, decision, detail));
        if let Err(e) = recorded {
            tracing::error!(error = %e, decision, "the audit log could not be written");
        }
    }

    /// The memory database under the data dir, expired entries purged.
    pub fn open_memory(&self) -> Result<MemoryStore> {
        let path = self.data_dir.join("memory.sqlite");
        Ok(MemoryStore::open(
            &path,
            self.config.memory_policy.clone(),
            Arc::new(SystemClock),
        )?)
    }

    /// Timers, reminders, lists, the messenger adapters and the owner's
    /// skills (`skills/` in the data dir), kept beside the memory database;
    /// the vault (its identity made at first start) under the data dir.
    pub fn open_everyday(
        &self,
        bus: crate::assistant::bus::Bus,
    ) -> Result<crate::assistant::everyday::Everyday> {
        use crate::assistant::everyday::{Everyday, EverydayPlaces, Outside};
        use crate::assistant::messengers::{AdapterSettings, HttpEgress};
        let vault = hauski_skills::vault::Vault::open_or_create(&self.data_dir)?;
        let adapters = AdapterSettings::load(&self.data_dir).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the messenger adapters are off");
            AdapterSettings::default()
        });
        let outside = Outside {
            egress: Arc::new(HttpEgress::new(self.config.routing.clone())),
            secrets: Arc::new(vault),
            messages: self.config.messages.clone(),
            adapters,
        };
        let places = EverydayPlaces {
            store: &self.data_dir.join("skills.sqlite"),
            audit: &self.data_dir.join("audit.log"),
            skills_dir: Some(&self.data_dir.join("skills")),
        };
        Ok(Everyday::open(
            &places,
            self.config.skills.clone(),
            Arc::new(SystemClock),
            bus,
            Some(outside),
        )?)
    }

    pub fn vad_config(&self) -> VadConfig {
        let s = &self.config.limits.speech;
        VadConfig {
            aggressiveness: s.vad_aggressiveness,
            hangover_ms: s.vad_hangover_ms,
            min_speech_ms: s.vad_min_speech_ms,
            ..VadConfig::default()
        }
    }

    /// Checks an audio file's length against policies/limits.yaml.
    pub fn check_audio_length(&self, file: &Path, samples: usize, rate: u32) -> Result<()> {
        let seconds = samples as f64 / f64::from(rate);
        let max = self.config.limits.speech.max_audio_s;
        if seconds > f64::from(max) {
            bail!(
                "{} is {seconds:.0} s long, over the limit of {max} s (speech.max_audio_s in policies/limits.yaml); cut it shorter",
                file.display()
            );
        }
        Ok(())
    }
}
