//! Retrieval over the owner's notes: documents with text and an embedding,
//! found by meaning and by words.
//!
//! Callers see only [`VectorStore`]; [`HybridStore`] (tantivy BM25 + an exact
//! int8 scan, or hnsw_rs ANN for large stores, fused by reciprocal rank) is the
//! first backend. A Qdrant backend would
//! implement the same trait, with filters mapped to its payload filters.

mod exact;
mod fusion;
mod hybrid;
mod lexical;
mod on_disk;
#[cfg(test)]
mod test_vectors;

use std::collections::BTreeMap;

pub use fusion::reciprocal_rank_fusion;
pub use hybrid::{HybridStore, StoreOptions};

/// A piece of text to find again: a chunk of a note, a memory, a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Stable and unique: upserting the same id replaces the document.
    pub id: String,
    pub text: String,
    /// Unit-length embedding of `text` (see [`crate::Embedder`]).
    pub embedding: Vec<f32>,
    /// Metadata to filter and show: e.g. `path`, `heading`.
    pub fields: BTreeMap<String, String>,
}

/// Restricts a search to documents whose fields match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Every (field, value) pair must match exactly.
    pub equals: Vec<(String, String)>,
    /// The `path` field must start with this.
    pub path_prefix: Option<String>,
}

impl Filter {
    /// No condition: every document passes.
    pub fn is_empty(&self) -> bool {
        self.equals.is_empty() && self.path_prefix.is_none()
    }

    pub fn matches(&self, fields: &BTreeMap<String, String>) -> bool {
        self.equals
            .iter()
            .all(|(k, v)| fields.get(k).is_some_and(|f| f == v))
            && self.path_prefix.as_ref().is_none_or(|p| {
                fields
                    .get("path")
                    .is_some_and(|path| path.starts_with(p.as_str()))
            })
    }
}

#[derive(Debug, Clone)]
pub struct Query<'a> {
    pub text: &'a str,
    pub embedding: &'a [f32],
    pub k: usize,
    pub filter: Filter,
}

/// A query not embedded yet: the store asks [`QueryEmbedder`] for its
/// embedding and may search the words meanwhile, which do not need it.
#[derive(Debug, Clone)]
pub struct TextQuery<'a> {
    pub text: &'a str,
    pub k: usize,
    pub filter: Filter,
}

/// Makes a query's unit-length embedding (the index's own model), or says why not.
pub type QueryEmbedder<'e> = dyn Fn(&str) -> Result<Vec<f32>, String> + Sync + 'e;

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: String,
    /// Fused score: higher is better; comparable within one result list only.
    pub score: f32,
    pub text: String,
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStats {
    pub documents: usize,
    pub dimensions: usize,
    pub bytes_on_disk: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RetrievalError {
    #[error("cannot open the index in {path}: {reason}; delete the folder and run `hauski index add` again")]
    Open { path: String, reason: String },
    #[error("the index failed: {0}")]
    Index(String),
    #[error("embedding the query failed: {0}")]
    Embed(String),
    #[error("document {id} has a {got}-dimensional embedding, the index holds {expected}")]
    Dimensions { id: String, expected: usize, got: usize },
}

/// A store of documents searchable by text and by embedding.
pub trait VectorStore {
    /// Adds documents, replacing any with the same id.
    fn upsert(&mut self, documents: Vec<Document>) -> Result<(), RetrievalError>;
    /// Removes documents by id; returns how many existed.
    fn delete(&mut self, ids: &[String]) -> Result<usize, RetrievalError>;
    /// Ids of documents whose `field` equals `value` (e.g. all chunks of one note).
    fn ids_where(&self, field: &str, value: &str) -> Vec<String>;
    /// The best `query.k` documents that pass the filter, best first.
    fn search(&self, query: &Query<'_>) -> Result<Vec<Hit>, RetrievalError>;
    /// [`Self::search`] for a query `embed` has still to embed. A backend
    /// with cores to spare may embed beside its word search; this default
    /// embeds first, which on two cores measured faster (`HybridStore`).
    fn search_text(
        &self,
        query: &TextQuery<'_>,
        embed: &QueryEmbedder<'_>,
    ) -> Result<Vec<Hit>, RetrievalError> {
        let embedding = embed(query.text).map_err(RetrievalError::Embed)?;
        self.search(&Query {
            text: query.text,
            embedding: &embedding,
            k: query.k,
            filter: query.filter.clone(),
        })
    }
    /// Makes every change so far durable.
    fn persist(&mut self) -> Result<(), RetrievalError>;
    fn stats(&self) -> StoreStats;
}
