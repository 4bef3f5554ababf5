//! The first [`VectorStore`] backend: tantivy for BM25 over the text, hnsw_rs
//! for approximate nearest neighbours over the embeddings, fused by rank.
//!
//! On disk (in one folder): `tantivy/` (the text index), the HNSW graph as
//! hnsw_rs dumps it (`graph-<generation>.hnsw.*`) and `docs.jsonl`: a header
//! naming that dump, then each document's id, text, fields, graph point and
//! embedding (base64 little-endian f32). `docs.jsonl` is replaced atomically
//! after the dump is written, so a reader never sees half a write and the
//! graph always matches the documents; without a usable dump the graph is
//! rebuilt from the stored embeddings. Nothing is ever re-embedded.
//!
//! Opening does not take tantivy's writer lock; the first change does. So a
//! search can run while another process (the folder watcher) writes.
//!
//! The semantic ranker scans up to [`StoreOptions::exact_scan_limit`]
//! documents (sign bits, then int8 codes, then f32, see [`super::exact`]):
//! faster than the graph at a home's sizes, and it finds 99.8 % of the exact
//! top 10 at 100 000 chunks where the graph found 87 %. Beyond the limit the
//! HNSW graph answers. hnsw_rs cannot delete points, so replaced or deleted
//! documents leave dead points (and dead rows); both are compacted when a
//! third is dead. Until then a graph search walks as if none were dead, asking
//! for enough more neighbours that the live ones still fill the list, and
//! drops the dead: hnsw_rs's filtered walk, which checks every node it visits,
//! took 14–17 ms at 100 000 chunks where the plain one takes 4 (see `semantic`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use hnsw_rs::prelude::{AnnT, DistCosine, Hnsw};
use tantivy::schema::{Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions};
use tantivy::{Index, IndexReader, IndexWriter, Term, doc};

use super::exact::QuantizedRows;
use super::lexical::{self, ANALYZER, english_analyzer};
use super::on_disk::{Header, StoredDoc, dir_size, load_docs, load_graph, remove_old_dumps, write_docs};
use super::{Document, Filter, Hit, Query, RetrievalError, StoreStats, VectorStore, reciprocal_rank_fusion};

/// Candidates taken from each ranker before fusion, per requested hit.
const CANDIDATES_PER_HIT: usize = 3;
const MIN_CANDIDATES: usize = 30;
const HNSW_MAX_CONNECTIONS: usize = 16;
const HNSW_EF_CONSTRUCTION: usize = 100;
/// Candidates the HNSW search keeps while walking the graph (`ef`); at
/// least the number of hits asked for. Measured at 100 000 chunks (`hauski
/// bench brain`): recall@10 0.67 / 0.78 / 0.88 at ef 64 / 128 / 256, in
/// 1.2 / 2.1 / 3.9 ms. The search runs beside BM25 (4.7 ms there), so the
/// widest of these costs the hybrid search nothing.
const HNSW_EF_SEARCH: usize = 256;

/// How a store searches by meaning.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// Up to this many documents every embedding is scanned; beyond it the
    /// HNSW graph is built and walked. The scan of 100 000 documents takes
    /// 2–3.6 ms on one core here (`hauski-bench brain`), growing linearly.
    pub exact_scan_limit: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            exact_scan_limit: 250_000,
        }
    }
}

struct Entry {
    text: String,
    fields: BTreeMap<String, String>,
    embedding: Vec<f32>,
    /// This document's point in the HNSW graph.
    point: usize,
}

pub struct HybridStore {
    dir: PathBuf,
    dimensions: usize,
    docs: HashMap<String, Entry>,
    /// HNSW point (and scan row) → document id; `None` for dead points.
    points: Vec<Option<String>>,
    dead: usize,
    /// int8 copies of the embeddings by point, for the exact scan.
    rows: QuantizedRows,
    /// The graph, built only beyond the exact scan's limit.
    hnsw: Option<Hnsw<'static, f32, DistCosine>>,
    options: StoreOptions,
    index: Index,
    /// Taken on the first change: tantivy allows one writer per index.
    writer: Option<IndexWriter>,
    reader: IndexReader,
    id_field: Field,
    text_field: Field,
    dirty: bool,
}

impl HybridStore {
    /// Opens the store in `dir`, creating it if empty.
    pub fn open(dir: &Path, dimensions: usize) -> Result<Self, RetrievalError> {
        Self::open_with(dir, dimensions, StoreOptions::default())
    }

    /// [`Self::open`] with other search settings.
    pub fn open_with(dir: &Path, dimensions: usize, options: StoreOptions) -> Result<Self, RetrievalError> {
        let _span = tracing::info_span!("store_open", dir = %dir.display()).entered();
        let fail = |reason: String| RetrievalError::Open {
            path: dir.display().to_string(),
            reason,
        };
        let text_dir = dir.join("tantivy");
        std::fs::create_dir_all(&text_dir).map_err(|e| fail(e.to_string()))?;
        let mut builder = Schema::builder();
        let id_field = builder.add_text_field("id", STRING | STORED);
        let text_options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let text_field = builder.add_text_field("text", text_options);
        let schema = builder.build();
        let directory =
            tantivy::directory::MmapDirectory::open(&text_dir).map_err(|e| fail(e.to_string()))?;
        let index = Index::open_or_create(directory, schema).map_err(|e| fail(e.to_string()))?;
        index.tokenizers().register(ANALYZER, english_analyzer());
        let reader = index.reader().map_err(|e| fail(e.to_string()))?;

        let (header, docs) = load_docs(dir, dimensions).map_err(fail)?;
        let dumped = header
            .graph
            .as_deref()
            .filter(|_| docs.len() > options.exact_scan_limit)
            .filter(|_| {
                docs.iter()
                    .all(|(d, _)| d.point.is_some_and(|p| p < header.points))
            })
            .and_then(|name| load_graph(dir, name, header.points));
        let mut store = Self {
            dir: dir.to_path_buf(),
            dimensions,
            docs: HashMap::new(),
            points: Vec::new(),
            dead: 0,
            rows: QuantizedRows::new(dimensions),
            hnsw: None,
            options,
            index,
            writer: None,
            reader,
            id_field,
            text_field,
            dirty: false,
        };
        match dumped {
            Some(graph) => {
                store.hnsw = Some(graph);
                store.points = vec![None; header.points];
                let mut by_point: Vec<Option<&[f32]>> = vec![None; header.points];
                for (stored, embedding) in &docs {
                    by_point[stored.point.unwrap_or_default()] = Some(embedding);
                }
                for embedding in by_point {
                    match embedding {
                        Some(embedding) => store.rows.push(embedding),
                        None => store.rows.push_dead(),
                    }
                }
                for (stored, embedding) in docs {
                    let point = stored.point.unwrap_or_default();
                    store.points[point] = Some(stored.id.clone());
                    store.docs.insert(
                        stored.id,
                        Entry {
                            text: stored.text,
                            fields: stored.fields,
                            embedding,
                            point,
                        },
                    );
                }
                store.dead = header.points - store.docs.len();
            }
            None => store.insert_points(
                docs.len() > options.exact_scan_limit,
                docs.into_iter()
                    .map(|(stored, embedding)| Document {
                        id: stored.id,
                        text: stored.text,
                        fields: stored.fields,
                        embedding,
                    })
                    .collect(),
            ),
        }
        Ok(store)
    }

    /// Adds documents to the scan rows, the graph if there is one (or
    /// `with_graph` asks for one; inserted in parallel: the graph is the slow
    /// part of opening a large store) and the document map.
    fn insert_points(&mut self, with_graph: bool, batch: Vec<Document>) {
        let first = self.points.len();
        if with_graph && self.hnsw.is_none() {
            self.hnsw = Some(new_graph(first + batch.len()));
        }
        if let Some(hnsw) = &self.hnsw {
            let refs: Vec<(&Vec<f32>, usize)> = batch
                .iter()
                .enumerate()
                .map(|(i, doc)| (&doc.embedding, first + i))
                .collect();
            hnsw.parallel_insert(&refs);
        }
        for (i, doc) in batch.into_iter().enumerate() {
            self.rows.push(&doc.embedding);
            self.points.push(Some(doc.id.clone()));
            self.docs.insert(
                doc.id,
                Entry {
                    text: doc.text,
                    fields: doc.fields,
                    embedding: doc.embedding,
                    point: first + i,
                },
            );
        }
    }

    fn kill_point(&mut self, id: &str) -> bool {
        match self.docs.remove(id) {
            Some(entry) => {
                self.points[entry.point] = None;
                self.rows.kill(entry.point);
                self.dead += 1;
                true
            }
            None => false,
        }
    }

    /// Renumbers the live documents, dropping dead points and rows, and
    /// builds the graph anew if the store is beyond the exact scan's limit.
    fn compact(&mut self) {
        let _span = tracing::info_span!("store_compact", live = self.docs.len(), dead = self.dead).entered();
        let live: Vec<(String, Entry)> = self.docs.drain().collect();
        self.hnsw = None;
        self.rows.clear();
        self.points.clear();
        self.dead = 0;
        self.insert_points(
            live.len() > self.options.exact_scan_limit,
            live.into_iter()
                .map(|(id, e)| Document {
                    id,
                    text: e.text,
                    fields: e.fields,
                    embedding: e.embedding,
                })
                .collect(),
        );
    }

    /// The HNSW ranker alone: the ids of the `k` nearest live documents, as
    /// the hybrid search sees them (for benches and debugging).
    pub fn ann_search(&self, embedding: &[f32], k: usize) -> Vec<String> {
        self.semantic(embedding, k, HNSW_EF_SEARCH, &Filter::default())
    }

    /// [`Self::ann_search`] with another search breadth (`ef`), to measure
    /// what it buys.
    pub fn ann_search_with_ef(&self, embedding: &[f32], k: usize, ef: usize) -> Vec<String> {
        self.semantic(embedding, k, ef, &Filter::default())
    }

    /// How the semantic ranker searches now, for benches and logs.
    pub fn semantic_index(&self) -> &'static str {
        if self.hnsw.is_some() {
            "hnsw"
        } else {
            "scan: sign bits, int8, f32"
        }
    }

    /// Bytes the scan's int8 rows hold.
    pub fn scan_bytes(&self) -> usize {
        self.rows.bytes()
    }

    /// Candidates each ranker gives the fusion for `k` hits.
    pub fn candidates_for(k: usize) -> usize {
        (k * CANDIDATES_PER_HIT).max(MIN_CANDIDATES)
    }

    /// Whether document `id` is stored and matches `filter`.
    fn passes(&self, id: &str, filter: &Filter) -> bool {
        self.docs.get(id).is_some_and(|e| filter.matches(&e.fields))
    }

    /// The BM25 ranker alone (for benches and debugging).
    pub fn lexical_search(&self, text: &str, n: usize) -> Result<Vec<String>, RetrievalError> {
        self.bm25(text, n)
    }

    fn semantic(&self, embedding: &[f32], n: usize, ef: usize, filter: &Filter) -> Vec<String> {
        let id_of = |point: usize| self.points.get(point).and_then(Option::as_ref);
        let Some(hnsw) = &self.hnsw else {
            let keep =
                |point: usize| id_of(point).is_some_and(|id| filter.is_empty() || self.passes(id, filter));
            let exact = |point: usize| {
                id_of(point)
                    .and_then(|id| self.docs.get(id))
                    .map(|e| crate::cosine(embedding, &e.embedding))
            };
            return self
                .rows
                .nearest(embedding, n, keep, exact)
                .into_iter()
                .filter_map(|point| id_of(point).cloned())
                .collect();
        };
        let ef = ef.max(n);
        if filter.is_empty()
            && let Some(live) = self.plain_walk(hnsw, embedding, n, ef)
        {
            return live;
        }
        let passes = |point: &usize| id_of(*point).is_some_and(|id| self.passes(id, filter));
        self.live_ids(hnsw.search_filter(embedding, n, ef, Some(&passes)))
    }

    /// The `n` nearest live documents by a walk that checks no node: with
    /// dead points in the graph it asks for twice their share more (a
    /// replaced document's old point lies right beside its new one) and
    /// drops them. `None` when too many of those were dead to fill `n`,
    /// for the filtered walk to answer instead.
    fn plain_walk(
        &self,
        hnsw: &Hnsw<'static, f32, DistCosine>,
        embedding: &[f32],
        n: usize,
        ef: usize,
    ) -> Option<Vec<String>> {
        if self.dead == 0 {
            return Some(self.live_ids(hnsw.search(embedding, n, ef)));
        }
        let live = self.points.len().saturating_sub(self.dead).max(1);
        let wanted = (n + 2 * n * self.dead / live + 8).min(self.points.len());
        let found = hnsw.search(embedding, wanted, ef.max(wanted));
        let exhausted = found.len() < wanted;
        let mut ids = self.live_ids(found);
        if ids.len() < n && !exhausted {
            return None;
        }
        ids.truncate(n);
        Some(ids)
    }

    /// Both rankers, fused by rank: BM25 here, the semantic one on a second
    /// core, so a search takes the slower of the two, not their sum. The
    /// query's embedding is made before (`VectorStore::search_text`): made
    /// on the semantic ranker's thread beside BM25, it measured slower on two
    /// cores than the sum of the parts, the embedder's second pool thread
    /// waiting for the core BM25 held (`hauski-bench brain`, after edits at
    /// 100 000 chunks: p50 9.9 ms against 4.2 + 3.9 in the same run).
    fn fused(
        &self,
        text: &str,
        k: usize,
        filter: &Filter,
        embedding: &[f32],
    ) -> Result<Vec<Hit>, RetrievalError> {
        let _span = tracing::debug_span!("store_search", k).entered();
        if self.docs.is_empty() || k == 0 {
            return Ok(Vec::new());
        }
        let n = Self::candidates_for(k);
        let (lexical, semantic) = std::thread::scope(|scope| {
            let semantic = scope.spawn(|| {
                if embedding.len() == self.dimensions {
                    self.semantic(embedding, n, HNSW_EF_SEARCH, filter)
                } else {
                    Vec::new()
                }
            });
            let lexical = self.bm25(text, n);
            (lexical, semantic.join())
        });
        let lexical: Vec<String> = lexical?
            .into_iter()
            .filter(|id| self.passes(id, filter))
            .collect();
        let semantic: Vec<String> =
            semantic.map_err(|_| RetrievalError::Index("the semantic search thread panicked".into()))?;

        tracing::debug!(?lexical, ?semantic, "rankers");
        let lists = [
            lexical.iter().map(String::as_str).collect::<Vec<_>>(),
            semantic.iter().map(String::as_str).collect::<Vec<_>>(),
        ];
        Ok(reciprocal_rank_fusion(&lists)
            .into_iter()
            .take(k)
            .filter_map(|(id, score)| {
                self.docs.get(id).map(|e| Hit {
                    id: id.to_string(),
                    score,
                    text: e.text.clone(),
                    fields: e.fields.clone(),
                })
            })
            .collect())
    }

    /// Document ids of the live points among `found`, in order.
    fn live_ids(&self, found: Vec<hnsw_rs::prelude::Neighbour>) -> Vec<String> {
        found
            .into_iter()
            .filter_map(|nb| self.points.get(nb.d_id).cloned().flatten())
            .collect()
    }

    fn writer(&mut self) -> Result<&mut IndexWriter, RetrievalError> {
        if self.writer.is_none() {
            let writer = self.index.writer(50_000_000).map_err(|e| {
                RetrievalError::Index(format!("{e}; is `hauski index` already running on this index?"))
            })?;
            self.writer = Some(writer);
        }
        self.writer
            .as_mut()
            .ok_or_else(|| RetrievalError::Index("no index writer".into()))
    }

    fn bm25(&self, text: &str, n: usize) -> Result<Vec<String>, RetrievalError> {
        lexical::top_ids(
            &self.reader.searcher(),
            &self.index,
            self.text_field,
            self.id_field,
            text,
            n,
        )
    }
}

fn new_graph(capacity: usize) -> Hnsw<'static, f32, DistCosine> {
    let max_layers = 16;
    Hnsw::new(
        HNSW_MAX_CONNECTIONS,
        capacity.max(1_000),
        max_layers,
        HNSW_EF_CONSTRUCTION,
        DistCosine {},
    )
}

impl VectorStore for HybridStore {
    fn upsert(&mut self, documents: Vec<Document>) -> Result<(), RetrievalError> {
        let _span = tracing::debug_span!("store_upsert", documents = documents.len()).entered();
        // The same id twice in one call: the last one wins, as in separate calls.
        let mut seen = std::collections::HashSet::new();
        let mut documents: Vec<Document> = documents
            .into_iter()
            .rev()
            .filter(|d| seen.insert(d.id.clone()))
            .collect();
        documents.reverse();
        let mut batch = Vec::with_capacity(documents.len());
        for doc in documents {
            if doc.embedding.len() != self.dimensions {
                return Err(RetrievalError::Dimensions {
                    id: doc.id,
                    expected: self.dimensions,
                    got: doc.embedding.len(),
                });
            }
            self.kill_point(&doc.id);
            let (id_field, text_field) = (self.id_field, self.text_field);
            let writer = self.writer()?;
            writer.delete_term(Term::from_field_text(id_field, &doc.id));
            writer
                .add_document(doc!(id_field => doc.id.clone(), text_field => doc.text.clone()))
                .map_err(|e| RetrievalError::Index(e.to_string()))?;
            batch.push(doc);
        }
        // A store that grows past the scan's limit gets its graph when it is
        // persisted (built over every document); until then it scans.
        self.insert_points(false, batch);
        self.dirty = true;
        Ok(())
    }

    fn delete(&mut self, ids: &[String]) -> Result<usize, RetrievalError> {
        let mut removed = 0;
        for id in ids {
            if self.kill_point(id) {
                let id_field = self.id_field;
                self.writer()?.delete_term(Term::from_field_text(id_field, id));
                removed += 1;
            }
        }
        self.dirty |= removed > 0;
        Ok(removed)
    }

    fn ids_where(&self, field: &str, value: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .docs
            .iter()
            .filter(|(_, e)| e.fields.get(field).is_some_and(|v| v == value))
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }

    fn search(&self, query: &Query<'_>) -> Result<Vec<Hit>, RetrievalError> {
        self.fused(query.text, query.k, &query.filter, query.embedding)
    }

    fn persist(&mut self) -> Result<(), RetrievalError> {
        if !self.dirty {
            return Ok(());
        }
        let _span = tracing::info_span!("store_persist", documents = self.docs.len()).entered();
        self.writer()?
            .commit()
            .map_err(|e| RetrievalError::Index(e.to_string()))?;
        self.reader
            .reload()
            .map_err(|e| RetrievalError::Index(e.to_string()))?;
        let wants_graph = self.docs.len() > self.options.exact_scan_limit;
        if self.dead * 3 > self.points.len() || wants_graph != self.hnsw.is_some() {
            self.compact();
        }
        // The graph goes to a new name first; docs.jsonl, replaced atomically
        // after, names it. Older dumps are removed last.
        let generation = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let graph = self.hnsw.as_ref().and_then(|hnsw| {
            hnsw.file_dump(&self.dir, &format!("graph-{generation}"))
                .map_err(|e| tracing::warn!(error = %e, "graph not dumped; it will be rebuilt on open"))
                .ok()
        });
        let header = Header {
            graph: graph.clone(),
            points: self.points.len(),
        };
        let mut ids: Vec<&String> = self.docs.keys().collect();
        ids.sort();
        let stored = ids.into_iter().map(|id| {
            let entry = &self.docs[id];
            StoredDoc::new(id, &entry.text, &entry.fields, &entry.embedding, entry.point)
        });
        write_docs(&self.dir, &header, stored).map_err(RetrievalError::Index)?;
        remove_old_dumps(&self.dir, graph.as_deref());
        self.dirty = false;
        Ok(())
    }

    fn stats(&self) -> StoreStats {
        let bytes_on_disk = dir_size(&self.dir);
        StoreStats {
            documents: self.docs.len(),
            dimensions: self.dimensions,
            bytes_on_disk,
        }
    }
}

#[cfg(test)]
#[path = "hybrid_tests.rs"]
mod tests;
