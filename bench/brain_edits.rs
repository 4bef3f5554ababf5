//! The notes index as it is used, not as it was built: a tenth of the chunks
//! edited or deleted (their old graph points left dead), then top-20 hybrid
//! searches timed with each query's own embedding (made while BM25 searches
//! the words, as `hauski search` does), the semantic ranker's recall against
//! exact search over what is live, and a check that no deleted chunk comes back.

use std::collections::HashSet;
use std::time::Instant;

use anyhow::{Result, bail};
use hauski_brain::cosine;
use hauski_brain::retrieval::{Document, Filter, HybridStore, Query, TextQuery, VectorStore};
use serde_json::{Value, json};

use crate::report::percentile;

/// Of every 20 chunks, this one is edited and this one deleted: 10 % in all.
const EDITED_OF_20: usize = 3;
const DELETED_OF_20: usize = 13;

/// The corpus as built: chunk texts, their embeddings and ids.
pub(crate) struct Corpus<'a> {
    pub chunks: &'a [String],
    pub vectors: &'a [Vec<f32>],
    pub ids: &'a [String],
}

/// Edits and deletes a tenth of `corpus` in `store`, then measures searches
/// for `queries` (text) the way a turn runs them: embedding, then search.
pub(crate) fn measure(
    store: &mut HybridStore,
    embedder: &hauski_brain::Embedder,
    corpus: &Corpus<'_>,
    queries: &[String],
    top_k: usize,
    recall_queries: usize,
) -> Result<Value> {
    eprintln!("bench brain: editing and deleting a tenth of the chunks");
    let edited: Vec<usize> = (EDITED_OF_20..corpus.chunks.len()).step_by(20).collect();
    let deleted: Vec<String> = (DELETED_OF_20..corpus.chunks.len())
        .step_by(20)
        .map(|i| corpus.ids[i].clone())
        .collect();
    let new_texts: Vec<String> = edited
        .iter()
        .map(|&i| {
            format!(
                "{} Changed: the neighbour has the spare key now.",
                corpus.chunks[i]
            )
        })
        .collect();
    let started = Instant::now();
    let mut new_vectors = Vec::with_capacity(new_texts.len());
    for batch in new_texts.chunks(32) {
        let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
        new_vectors.extend(embedder.embed(&refs)?);
    }
    let replacements: Vec<Document> = edited
        .iter()
        .zip(new_texts)
        .zip(&new_vectors)
        .map(|((&i, text), v)| Document {
            id: corpus.ids[i].clone(),
            text,
            embedding: v.clone(),
            fields: [(
                "path".to_string(),
                corpus.ids[i].split('#').next().unwrap_or_default().to_string(),
            )]
            .into(),
        })
        .collect();
    store.upsert(replacements)?;
    store.delete(&deleted)?;
    store.persist()?;
    let update_s = started.elapsed().as_secs_f64();

    // What is live now, with its current embedding.
    let gone: HashSet<&str> = deleted.iter().map(String::as_str).collect();
    let mut live: Vec<(&str, &[f32])> = corpus
        .ids
        .iter()
        .zip(corpus.vectors)
        .filter(|(id, _)| !gone.contains(id.as_str()))
        .map(|(id, v)| (id.as_str(), v.as_slice()))
        .collect();
    for (&i, v) in edited.iter().zip(&new_vectors) {
        if let Some(entry) = live.iter_mut().find(|(id, _)| *id == corpus.ids[i]) {
            entry.1 = v;
        }
    }

    let (mut latencies, mut search_alone, mut embedding_ms) = (Vec::new(), Vec::new(), Vec::new());
    let mut query_vectors = Vec::with_capacity(queries.len());
    let embed = |text: &str| embedder.embed_one(text).map_err(|e| e.to_string());
    let returned_dead = |hits: &[hauski_brain::retrieval::Hit]| {
        hits.iter()
            .find(|h| gone.contains(h.id.as_str()))
            .map(|h| h.id.clone())
    };
    for q in queries {
        // As `hauski search` and a turn run it: the words searched while the
        // query is embedded, then the embedding's own search.
        let started = Instant::now();
        let hits = store.search_text(
            &TextQuery {
                text: q,
                k: top_k,
                filter: Filter::default(),
            },
            &embed,
        )?;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        // The parts alone: the embedding, and a search given it.
        let embedding = Instant::now();
        let v = embedder.embed_one(q)?;
        embedding_ms.push(embedding.elapsed().as_secs_f64() * 1000.0);
        let searching = Instant::now();
        let alone = store.search(&Query {
            text: q,
            embedding: &v,
            k: top_k,
            filter: Filter::default(),
        })?;
        search_alone.push(searching.elapsed().as_secs_f64() * 1000.0);
        if let Some(dead) = returned_dead(&hits).or_else(|| returned_dead(&alone)) {
            bail!("a deleted chunk came back from a search: {dead}");
        }
        query_vectors.push(v);
    }
    latencies.sort_by(f64::total_cmp);
    search_alone.sort_by(f64::total_cmp);
    embedding_ms.sort_by(f64::total_cmp);
    // Each ranker alone, as the fresh index's figures have them.
    let (bm25_ms, semantic_ms) = crate::brain::rankers_alone_ms(store, queries, &query_vectors, top_k)?;

    let found: usize = query_vectors
        .iter()
        .take(recall_queries)
        .map(|q| {
            let mut exact: Vec<(f32, &str)> = live.iter().map(|(id, v)| (cosine(q, v), *id)).collect();
            exact.sort_by(|a, b| b.0.total_cmp(&a.0));
            let ann = store.ann_search(q, 10);
            exact
                .iter()
                .take(10)
                .filter(|(_, id)| ann.iter().any(|a| a == id))
                .count()
        })
        .sum();
    let recall = found as f64 / (recall_queries.min(query_vectors.len()) * 10) as f64;
    Ok(json!({
        "edited": edited.len(),
        "deleted": deleted.len(),
        "update_s": update_s,
        "search_with_query_embedding_ms": {
            "p50": percentile(&latencies, 50.0),
            "p95": percentile(&latencies, 95.0),
        },
        "query_embedding_ms": {
            "p50": percentile(&embedding_ms, 50.0),
            "p95": percentile(&embedding_ms, 95.0),
        },
        "search_alone_ms": {
            "p50": percentile(&search_alone, 50.0),
            "p95": percentile(&search_alone, 95.0),
        },
        "bm25_alone_ms": { "p50": percentile(&bm25_ms, 50.0), "p95": percentile(&bm25_ms, 95.0) },
        "semantic_alone_ms": { "p50": percentile(&semantic_ms, 50.0), "p95": percentile(&semantic_ms, 95.0) },
        "semantic_recall_at_10": recall,
        "deleted_returned": 0,
        "target_p95_ms": 10.0,
        "target_recall_at_10": 0.95,
    }))
}
