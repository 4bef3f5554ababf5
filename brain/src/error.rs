use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BrainError {
    #[error(
        "LLM file {path} is missing; run `hauski models pull {hint}` or set HAUSKI_MODELS to the folder that holds it"
    )]
    ModelMissing { path: PathBuf, hint: String },
    #[error("cannot load LLM {path}: {reason}; is it a GGUF file? check it with `hauski models verify`")]
    Load { path: PathBuf, reason: String },
    #[error(
        "cannot create an LLM context of {tokens} tokens: {reason}; lower `context_tokens` in models.yml"
    )]
    Context { tokens: u32, reason: String },
    #[error(
        "the prompt has {prompt} tokens and {budget} more are allowed for the answer, but the context holds {context}; shorten the prompt or lower max_tokens"
    )]
    PromptTooLong {
        prompt: usize,
        budget: u32,
        context: u32,
    },
    #[error("the embedding model's file {path} is missing; {fix}")]
    EmbedMissing { path: PathBuf, fix: &'static str },
    #[error("cannot load the embedding model in {path}: {reason}")]
    EmbedLoad { path: PathBuf, reason: String },
    #[error("indexing notes failed: {0}")]
    Index(String),
    #[error("nothing to ask: the question is empty")]
    EmptyPrompt,
    #[error("{0}")]
    InvalidInput(String),
    #[error("llama.cpp failed while {stage}: {reason}")]
    Engine { stage: &'static str, reason: String },
}

impl BrainError {
    /// An engine call that failed at `stage` ("decoding", "pooling", …).
    pub fn engine(stage: &'static str, e: impl std::fmt::Display) -> Self {
        Self::Engine {
            stage,
            reason: e.to_string(),
        }
    }
}
