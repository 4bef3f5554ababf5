//! Loading GGUF weights once per process.

use std::num::NonZeroU32;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;

use crate::{BrainError, Conversation};

/// llama.cpp's backend may be initialised only once per process.
fn backend() -> Result<&'static LlamaBackend, BrainError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|reason| BrainError::Engine {
            stage: "initialising the backend",
            reason: reason.clone(),
        })
}

/// How to run the model on this machine.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmConfig {
    /// Context window per conversation, in tokens.
    pub context_tokens: u32,
    /// Threads for prompt evaluation. llama.cpp's own default (4) on a 2-core
    /// box made generation ~100× slower: always the core count.
    pub threads: usize,
    /// Threads for generating token by token; see [`decode_threads_for`].
    pub decode_threads: usize,
    /// Tokens evaluated per batch during prompt processing.
    pub batch_tokens: u32,
}

impl Default for LlmConfig {
    fn default() -> Self {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            context_tokens: 2048,
            threads,
            decode_threads: decode_threads_for(threads),
            batch_tokens: 512,
        }
    }
}

/// Generation leaves one core to the rest: while a token is decoded, Piper
/// speaks the previous sentence and the audio graph and wake word run.
/// llama.cpp's threads wait for each other at every step, so one of them
/// preempted stalls all: in the voice loop on 2 cores, two decode threads
/// took 290–390 ms for a 17-token answer that one thread wrote in 130–210 ms,
/// though alone on the machine two are ~10 % faster (91 against 82 tokens/s).
/// Prompt evaluation, one big batch, keeps every thread.
pub fn decode_threads_for(threads: usize) -> usize {
    threads.saturating_sub(1).max(1)
}

/// Loaded GGUF weights, shared by every conversation over them.
pub struct LanguageModel {
    pub(crate) model: LlamaModel,
    pub(crate) config: LlmConfig,
    name: String,
}

impl LanguageModel {
    pub fn load(path: &Path, config: LlmConfig) -> Result<Self, BrainError> {
        let _span = tracing::info_span!("llm_load", model = %path.display()).entered();
        if !path.is_file() {
            return Err(BrainError::ModelMissing {
                path: path.to_path_buf(),
                hint: "gemma-3-270m".into(),
            });
        }
        let model =
            LlamaModel::load_from_file(backend()?, path, &LlamaModelParams::default()).map_err(|e| {
                BrainError::Load {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                }
            })?;
        let name = path
            .file_stem()
            .map_or_else(|| "llm".to_string(), |s| s.to_string_lossy().into_owned());
        Ok(Self { model, config, name })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Starts a conversation with its own context (and so its own prompt cache).
    pub fn conversation(&self) -> Result<Conversation<'_>, BrainError> {
        let threads = i32::try_from(self.config.threads.max(1)).unwrap_or(1);
        // A context longer than the model was trained on only produces garbage.
        let trained = self.model.n_ctx_train();
        let tokens = match trained {
            0 => self.config.context_tokens,
            t => self.config.context_tokens.min(t),
        };
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(tokens))
            .with_n_batch(self.config.batch_tokens)
            .with_n_threads(i32::try_from(self.config.decode_threads.max(1)).unwrap_or(1))
            .with_n_threads_batch(threads);
        // llama.cpp mutates the model while making a context, so contexts over
        // one model must be created one at a time.
        static CREATING: Mutex<()> = Mutex::new(());
        let _one_at_a_time = CREATING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let context = self
            .model
            .new_context(backend()?, params)
            .map_err(|e| BrainError::Context {
                tokens,
                reason: e.to_string(),
            })?;
        Ok(Conversation::new(self, context))
    }
}
