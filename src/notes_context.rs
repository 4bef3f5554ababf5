//! Retrieval for answers: the owner's notes that fit a question, cut to the
//! token budget of policies/limits.yaml, with their sources.

use anyhow::Result;
use hauski_brain::retrieval::{Filter, Query, VectorStore};
use serde::Serialize;

use crate::engines::App;

#[derive(Debug, Default, Serialize)]
pub struct NotesContext {
    /// The text put before the question; empty when nothing was found.
    #[serde(skip)]
    pub prompt: String,
    /// "path › heading" of each note used, best first.
    pub sources: Vec<String>,
}

/// Finds notes for `question`. Without an index this costs nothing: the
/// embedding model is only loaded when there are notes to search.
pub fn notes_for(app: &App, question: &str) -> Result<NotesContext> {
    let manifest = hauski_brain::notes::Manifest::load(&app.index_dir().join("manifest.json"))?;
    let limits = &app.config.limits.llm;
    if manifest.files.is_empty() || limits.notes_top_k == 0 {
        return Ok(NotesContext::default());
    }
    let _span = tracing::info_span!("retrieve", k = limits.notes_top_k).entered();
    let embedder = app.load_embedder()?;
    let (store, _) = app.open_index(embedder.dimensions())?;
    let embedding = embedder.embed_one(question)?;
    let hits = store.search(&Query {
        text: question,
        embedding: &embedding,
        k: limits.notes_top_k,
        filter: Filter::default(),
    })?;
    // About four characters per token.
    let mut budget = limits.notes_tokens * 4;
    let mut context = NotesContext {
        prompt: "From the owner's notes:\n".to_string(),
        sources: Vec::new(),
    };
    for hit in hits {
        let path = hit.fields.get("path").map_or("", String::as_str);
        let name = path.rsplit('/').next().unwrap_or(path);
        let heading = hit.fields.get("heading").map_or("", String::as_str);
        let line = format!("- ({name}) {}\n", hit.text.trim().replace('\n', " "));
        if line.len() > budget {
            break;
        }
        budget -= line.len();
        context.prompt.push_str(&line);
        context.sources.push(format!("{path} › {heading}"));
    }
    if context.sources.is_empty() {
        return Ok(NotesContext::default());
    }
    Ok(context)
}
