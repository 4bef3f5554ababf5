//! What a turn's prompt carries besides the question, and where it goes:
//! one system prompt that never changes (so the LLM keeps it cached), then
//! the owner's memories that fit the question and their notes, then the
//! question. Every door builds its prompt with [`compose`].

use anyhow::Result;
use hauski_brain::memory::{MemoryEntry, MemoryStore, ScoredMemory, memory_prompt};
use hauski_brain::{ChatMessage, ChatRole, Embedder};
use serde::Serialize;

pub use crate::notes_context::UsedNote;
use crate::notes_context::{NotesContext, NotesIndex};

/// Who HausKI is, the start of the default system prompt.
const SYSTEM_INTRO: &str = "HausKI is a friendly voice assistant in a family home. \
It answers every question in one or two short, plain sentences that sound good when spoken aloud.";

/// A few-shot frame that base and instruction-tuned models both complete as a
/// short spoken answer.
const SYSTEM_EXAMPLES: &str = "User: What is the capital of France?\nAssistant: The capital of France is Paris.\n\n\
User: Can you recommend a quick dinner?\nAssistant: A vegetable omelette takes ten minutes and is very filling.";

/// The system prompt: `custom` (from `--system`) or HausKI's own. It holds
/// nothing that changes between questions, so the prompt cache serves it.
pub fn system_prompt(custom: Option<&str>) -> String {
    match custom {
        Some(custom) => custom.to_string(),
        None => format!("{SYSTEM_INTRO}\n\n{SYSTEM_EXAMPLES}"),
    }
}

/// A memory that went into a prompt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsedMemory {
    pub id: i64,
    pub text: String,
    /// Similarity to the question (pinned entries come whatever it is).
    pub score: f32,
    pub pinned: bool,
}

/// One turn's context: what went into the prompt and why, so the owner can
/// see why HausKI said what it said (`--json`, the API's `hauski` field).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TurnContext {
    pub memories: Vec<UsedMemory>,
    pub notes: Vec<UsedNote>,
    /// The context as the prompt carries it; empty when there is none.
    #[serde(skip)]
    pub text: String,
}

impl TurnContext {
    /// The context from ranked memories and the notes found.
    pub fn new(memories: Vec<ScoredMemory>, notes: NotesContext) -> Self {
        let mut sections = Vec::new();
        if let Some(best) = memories.first() {
            let entries: Vec<MemoryEntry> = memories.iter().map(|m| m.entry.clone()).collect();
            // A worked example with the best match: small base models
            // ignore remembered facts without one.
            sections.push(format!(
                "{}User: What did I say about that?\nAssistant: You said that {}.",
                memory_prompt(&entries),
                best.entry.text.trim().trim_end_matches('.')
            ));
        }
        if !notes.prompt.trim().is_empty() {
            sections.push(notes.prompt.trim().to_string());
        }
        Self {
            memories: memories
                .into_iter()
                .map(|m| UsedMemory {
                    id: m.entry.id,
                    text: m.entry.text,
                    score: m.score,
                    pinned: m.entry.pinned,
                })
                .collect(),
            notes: notes.notes,
            text: sections.join("\n\n"),
        }
    }

    /// Tells the LLM the room the question was asked in (a satellite's).
    pub fn add_room(&mut self, room: &str) {
        let line = format!("The user is speaking in the {room}.");
        self.text = if self.text.is_empty() {
            line
        } else {
            format!("{line}\n\n{}", self.text)
        };
    }

    /// "path › heading" of each note used, best first.
    pub fn sources(&self) -> Vec<String> {
        self.notes.iter().map(|n| n.source.clone()).collect()
    }
}

/// The chat `history` (ending with the question) with `context` placed
/// after everything the LLM may have cached and right before the question.
/// The one place any door's prompt gets its memories and notes.
///
/// Right after a system message the context extends it (after a blank
/// line) rather than following as a second one: Gemma's template, as
/// llama.cpp applies it, runs consecutive system messages together without
/// a break. Either way the system prompt stays the prompt's fixed start.
pub fn compose(mut history: Vec<ChatMessage>, context: &TurnContext) -> Vec<ChatMessage> {
    if context.text.is_empty() {
        return history;
    }
    let at = history
        .iter()
        .rposition(|m| m.role == ChatRole::User)
        .unwrap_or(history.len());
    match at.checked_sub(1).and_then(|i| history.get_mut(i)) {
        Some(before) if before.role == ChatRole::System => {
            before.content = format!("{}\n\n{}", before.content.trim_end(), context.text);
        }
        _ => history.insert(at, ChatMessage::new(ChatRole::System, context.text.clone())),
    }
    history
}

/// HausKI's own prompt for one question: the system prompt, the context,
/// the question. Every door's turn is these messages (the API's with the
/// client's history before the question), rendered by the model's chat
/// template in `hauski_brain`.
pub fn prompt_for(custom_system: Option<&str>, question: &str, context: &TurnContext) -> Vec<ChatMessage> {
    compose(
        vec![
            ChatMessage::new(ChatRole::System, system_prompt(custom_system)),
            ChatMessage::new(ChatRole::User, question),
        ],
        context,
    )
}

/// Where a turn's context comes from.
pub struct ContextSources<'a> {
    pub embedder: &'a Embedder,
    pub memory: Option<&'a MemoryStore>,
    pub notes: Option<&'a NotesIndex>,
    /// Most memories per prompt, and their budget in characters.
    pub memory_entries: usize,
    pub memory_chars: usize,
}

/// Finds the memories and notes that fit `question`: one embedding of the
/// question ranks both, and none is made when there is nothing to rank (a
/// voice turn would pay for it on every question). Memories remembered
/// without an embedding (by a command that loads no embedder) are embedded
/// here, once.
pub fn gather(sources: &ContextSources<'_>, question: &str) -> Result<TurnContext> {
    let _span = tracing::info_span!("context").entered();
    let memory = match sources.memory {
        Some(store) if sources.memory_entries > 0 && store.has_entries()? => Some(store),
        _ => None,
    };
    let notes = sources.notes.filter(|index| !index.is_empty());
    if memory.is_none() && notes.is_none() {
        return Ok(TurnContext::default());
    }
    // The notes search embeds the question beside its word search; the
    // memories reuse that embedding.
    let made = std::sync::OnceLock::new();
    let embed = |text: &str| {
        let embedding = sources.embedder.embed_one(text).map_err(|e| e.to_string())?;
        let _ = made.set(embedding.clone());
        Ok(embedding)
    };
    let notes = match notes {
        Some(index) => index.retrieve(question, &embed)?,
        None => NotesContext::default(),
    };
    let memories = match memory {
        Some(store) => {
            let embedding = match made.into_inner() {
                Some(embedding) => embedding,
                None => sources.embedder.embed_one(question)?,
            };
            embed_missing(store, sources.embedder)?;
            store.relevant(&embedding, sources.memory_entries, sources.memory_chars)?
        }
        None => Vec::new(),
    };
    Ok(TurnContext::new(memories, notes))
}

fn embed_missing(store: &MemoryStore, embedder: &Embedder) -> Result<()> {
    let missing = store.without_embedding()?;
    if missing.is_empty() {
        return Ok(());
    }
    let _span = tracing::info_span!("embed_memories", count = missing.len()).entered();
    for batch in missing.chunks(32) {
        let texts: Vec<&str> = batch.iter().map(|e| e.text.as_str()).collect();
        for (entry, embedding) in batch.iter().zip(embedder.embed(&texts)?) {
            store.set_embedding(entry.id, &embedding)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hauski_brain::memory::Layer;

    fn context() -> TurnContext {
        let entry = MemoryEntry {
            id: 7,
            layer: Layer::Working,
            text: "the plumber comes on Tuesday at nine".into(),
            created_ms: 0,
            expires_ms: None,
            pinned: false,
        };
        TurnContext::new(
            vec![ScoredMemory { entry, score: 0.61 }],
            NotesContext {
                prompt: "From the owner's notes:\n- (boiler.md) Serviced in May.\n".into(),
                notes: vec![UsedNote {
                    source: "/vault/boiler.md › Heating".into(),
                    score: 0.5,
                }],
            },
        )
    }

    #[test]
    fn the_context_goes_after_the_system_prompt_and_before_the_question() {
        let context = context();
        let messages = prompt_for(None, "When does the plumber come?", &context);
        let roles: Vec<ChatRole> = messages.iter().map(|m| m.role).collect();
        assert_eq!(roles, [ChatRole::System, ChatRole::User]);
        // The fixed system prompt first (what the LLM keeps cached), then
        // the context, then the question.
        assert_eq!(
            messages[0].content,
            format!("{}\n\n{}", system_prompt(None), context.text)
        );
        assert_eq!(messages[1].content, "When does the plumber come?");
        assert!(context.text.contains("the plumber comes on Tuesday at nine"));
        assert!(context.text.contains("(boiler.md) Serviced in May."));
        let other = prompt_for(None, "Hi", &TurnContext::default());
        assert_eq!(other[0].content, system_prompt(None));
        assert_eq!(other.len(), 2);
    }

    #[test]
    fn a_client_chat_gets_the_context_before_its_last_question() {
        let context = context();
        let chat = vec![
            ChatMessage::new(ChatRole::System, "Be brief."),
            ChatMessage::new(ChatRole::User, "Hi"),
            ChatMessage::new(ChatRole::Assistant, "Hello."),
            ChatMessage::new(ChatRole::User, "When?"),
        ];
        let composed = compose(chat.clone(), &context);
        assert_eq!(composed.len(), 5);
        assert_eq!(
            composed[3],
            ChatMessage::new(ChatRole::System, context.text.clone())
        );
        assert_eq!(composed[4], chat[3]);
        assert_eq!(compose(chat.clone(), &TurnContext::default()), chat);
    }
}
