//! The dialogue brain: a local LLM through llama.cpp.
//!
//! A [`LanguageModel`] is the loaded weights; a [`Conversation`] is one llama.cpp
//! context over them that keeps its KV cache between turns, so the fixed system
//! prompt is evaluated once and reused (the prompt cache). Generation streams
//! text pieces to a callback, honours stop sequences and a token budget, and
//! reports what it did in [`GenerationStats`]. This crate knows nothing of audio.

mod chat;
mod conversation;
mod embed;
mod error;
mod grammar;
pub mod memory;
mod model;
pub mod notes;
mod prompt;
pub mod retrieval;
mod sampling;
mod stop;
mod utf8;

pub use chat::{ChatMessage, ChatRole, RenderedChat};
pub use conversation::{Conversation, FinishReason, GenerationStats};
pub use embed::{Embedder, cosine};
pub use error::BrainError;
pub use grammar::OutputGrammar;
pub use model::{LanguageModel, LlmConfig, decode_threads_for};
pub use prompt::{GenerationParams, Turn};
