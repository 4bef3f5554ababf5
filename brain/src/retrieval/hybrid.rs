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
//! hnsw_rs cannot delete points, so replaced or deleted documents leave dead
//! points that searches skip; the graph is rebuilt when a third of it is dead.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, BufWriter, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::path::{Path, PathBuf};

use hnsw_rs::prelude::{AnnT, DistCosine, Hnsw, HnswIo};
use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{Index, IndexReader, IndexWriter, TantivyDocument, Term, doc};

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

#[derive(Serialize, Deserialize)]
struct StoredDoc {
    id: String,
    text: String,
    fields: BTreeMap<String, String>,
    /// Base64 of the embedding's little-endian f32s.
    embedding: String,
    /// This document's point in the dumped graph.
    #[serde(default)]
    point: Option<usize>,
}

/// The first line of `docs.jsonl`: which graph dump belongs to these documents.
/// The dump is written under a new name before `docs.jsonl` is replaced, so
/// the pair is consistent whatever moment a crash picks.
#[derive(Serialize, Deserialize, Default)]
struct Header {
    graph: Option<String>,
    points: usize,
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
    /// HNSW point → document id; `None` for dead points.
    points: Vec<Option<String>>,
    dead: usize,
    hnsw: Hnsw<'static, f32, DistCosine>,
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
            hnsw: new_graph(docs.len()),
            index,
            writer: None,
            reader,
            id_field,
            text_field,
            dirty: false,
        };
        match dumped {
            Some(graph) => {
                store.hnsw = graph;
                store.points = vec![None; header.points];
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

    /// Adds documents to the graph (in parallel: the graph is the slow part of
    /// opening a store) and to the document map.
    fn insert_points(&mut self, batch: Vec<Document>) {
        let first = self.points.len();
        {
            let refs: Vec<(&Vec<f32>, usize)> = batch
                .iter()
                .enumerate()
                .map(|(i, doc)| (&doc.embedding, first + i))
                .collect();
            self.hnsw.parallel_insert(&refs);
        }
        for (i, doc) in batch.into_iter().enumerate() {
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
                self.dead += 1;
                true
            }
            None => false,
        }
    }

    /// Rebuilds the HNSW graph from the live documents, dropping dead points.
    fn rebuild_graph(&mut self) {
        let _span = tracing::info_span!("hnsw_rebuild", live = self.docs.len(), dead = self.dead).entered();
        let live: Vec<(String, Entry)> = self.docs.drain().collect();
        self.hnsw = new_graph(live.len());
        self.points.clear();
        self.dead = 0;
        self.insert_points(
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
        let ef = ef.max(n);
        let found = if filter.is_empty() && self.dead == 0 {
            // Every point is a live document that passes: no per-node check.
            self.hnsw.search(embedding, n, ef)
        } else {
            let passes = |point: &usize| {
                self.points
                    .get(*point)
                    .and_then(Option::as_ref)
                    .is_some_and(|id| self.passes(id, filter))
            };
            self.hnsw.search_filter(embedding, n, ef, Some(&passes))
        };
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
        let searcher = self.reader.searcher();
        let parser = QueryParser::for_index(&self.index, vec![self.text_field]);
        // Spoken questions are not query syntax: errors in it are ignored.
        let (query, _errors) = parser.parse_query_lenient(text);
        let top = searcher
            .search(&query, &TopDocs::with_limit(n).order_by_score())
            .map_err(|e| RetrievalError::Index(e.to_string()))?;
        let mut ids = Vec::with_capacity(top.len());
        for (_score, address) in top {
            let doc: TantivyDocument = searcher
                .doc(address)
                .map_err(|e| RetrievalError::Index(e.to_string()))?;
            if let Some(id) = doc.get_first(self.id_field).and_then(|v| v.as_str()) {
                ids.push(id.to_string());
            }
        }
        Ok(ids)
    }

    fn write_docs(&self, header: &Header) -> Result<(), String> {
        let tmp = self.dir.join("docs.jsonl.tmp");
        {
            let mut out = BufWriter::new(std::fs::File::create(&tmp).map_err(|e| e.to_string())?);
            serde_json::to_writer(&mut out, header).map_err(|e| e.to_string())?;
            out.write_all(b"\n").map_err(|e| e.to_string())?;
            let mut ids: Vec<&String> = self.docs.keys().collect();
            ids.sort();
            for id in ids {
                let entry = &self.docs[id];
                let bytes: Vec<u8> = entry.embedding.iter().flat_map(|x| x.to_le_bytes()).collect();
                let stored = StoredDoc {
                    id: id.clone(),
                    text: entry.text.clone(),
                    fields: entry.fields.clone(),
                    embedding: BASE64.encode(bytes),
                    point: Some(entry.point),
                };
                serde_json::to_writer(&mut out, &stored).map_err(|e| e.to_string())?;
                out.write_all(b"\n").map_err(|e| e.to_string())?;
            }
            out.into_inner()
                .map_err(|e| e.to_string())?
                .sync_all()
                .map_err(|e| e.to_string())?;
        }
        std::fs::rename(&tmp, self.dir.join("docs.jsonl")).map_err(|e| e.to_string())
    }
}

/// Name of the text analyzer; registered on every open (tantivy keeps only the name).
const ANALYZER: &str = "hauski_en";

/// Lowercased English words, stop words out, stemmed: "opens" finds "open",
/// and "what is the" matches nothing, so paraphrased questions are left to
/// the embeddings instead of ranking notes by their "the".
fn english_analyzer() -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser);
    match StopWordFilter::new(Language::English) {
        Some(stop) => builder
            .filter(stop)
            .filter(Stemmer::new(Language::English))
            .build(),
        None => builder.filter(Stemmer::new(Language::English)).build(),
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

/// Reads `docs.jsonl`; absent is an empty store.
type LoadedDocs = (Header, Vec<(StoredDoc, Vec<f32>)>);

fn load_docs(dir: &Path, dimensions: usize) -> Result<LoadedDocs, String> {
    let path = dir.join("docs.jsonl");
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Header::default(), Vec::new())),
        Err(e) => return Err(format!("docs.jsonl: {e}")),
    };
    let mut lines = BufReader::new(file).lines().enumerate();
    let header: Header = match lines.next() {
        Some((_, line)) => {
            let line = line.map_err(|e| format!("docs.jsonl: {e}"))?;
            serde_json::from_str(&line).map_err(|e| format!("docs.jsonl header: {e}"))?
        }
        None => Header::default(),
    };
    let mut docs = Vec::new();
    for (n, line) in lines {
        let line = line.map_err(|e| format!("docs.jsonl: {e}"))?;
        let doc: StoredDoc =
            serde_json::from_str(&line).map_err(|e| format!("docs.jsonl line {}: {e}", n + 1))?;
        let bytes = BASE64
            .decode(&doc.embedding)
            .map_err(|e| format!("docs.jsonl line {}: embedding: {e}", n + 1))?;
        if bytes.len() != dimensions * 4 {
            return Err(format!(
                "docs.jsonl line {}: a {}-dimensional embedding, expected {dimensions}",
                n + 1,
                bytes.len() / 4
            ));
        }
        let v = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        docs.push((doc, v));
    }
    Ok((header, docs))
}

/// Loads a dumped graph, or `None` (the caller rebuilds) if it is missing,
/// unreadable or of another size than the documents say.
fn load_graph(dir: &Path, name: &str, points: usize) -> Option<Hnsw<'static, f32, DistCosine>> {
    let _span = tracing::debug_span!("hnsw_load", name).entered();
    // hnsw_rs ties a loaded graph's lifetime to its loader; the loader is a
    // few paths and options, kept for the life of the process.
    // hnsw_rs unwraps while parsing a dump: a damaged file panics inside it.
    // That is contained here and answered with a rebuild.
    let loaded = std::panic::catch_unwind(move || {
        let io: &'static mut HnswIo = Box::leak(Box::new(HnswIo::new(dir, name)));
        io.load_hnsw::<f32, DistCosine>().map_err(|e| e.to_string())
    })
    .unwrap_or_else(|_| Err("the dump is damaged".to_string()));
    match loaded {
        Ok(graph) if graph.get_nb_point() == points => Some(graph),
        Ok(graph) => {
            tracing::warn!(
                name,
                found = graph.get_nb_point(),
                expected = points,
                "graph dump does not match; rebuilding"
            );
            None
        }
        Err(e) => {
            tracing::warn!(name, error = %e, "graph dump unreadable; rebuilding");
            None
        }
    }
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
        self.insert_points(batch);
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
        let _span = tracing::debug_span!("store_search", k = query.k).entered();
        if self.docs.is_empty() || query.k == 0 {
            return Ok(Vec::new());
        }
        let n = Self::candidates_for(query.k);

        // The two rankers are independent: BM25 here, HNSW on a second
        // core, so a search takes the slower of the two, not their sum.
        let (lexical, semantic) = std::thread::scope(|scope| {
            let semantic = scope.spawn(|| {
                if query.embedding.len() == self.dimensions {
                    self.semantic(query.embedding, n, HNSW_EF_SEARCH, &query.filter)
                } else {
                    Vec::new()
                }
            });
            let lexical = self.bm25(query.text, n);
            (lexical, semantic.join())
        });
        let lexical: Vec<String> = lexical?
            .into_iter()
            .filter(|id| self.passes(id, &query.filter))
            .collect();
        let semantic =
            semantic.map_err(|_| RetrievalError::Index("the HNSW search thread panicked".into()))?;

        tracing::debug!(?lexical, ?semantic, "rankers");
        let lists = [
            lexical.iter().map(String::as_str).collect::<Vec<_>>(),
            semantic.iter().map(String::as_str).collect::<Vec<_>>(),
        ];
        Ok(reciprocal_rank_fusion(&lists)
            .into_iter()
            .take(query.k)
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
        if self.dead * 3 > self.points.len() {
            self.rebuild_graph();
        }
        // The graph goes to a new name first; docs.jsonl, replaced atomically
        // after, names it. Older dumps are removed last.
        let generation = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let graph = match self.hnsw.file_dump(&self.dir, &format!("graph-{generation}")) {
            Ok(name) => Some(name),
            Err(e) => {
                tracing::warn!(error = %e, "graph not dumped; it will be rebuilt on open");
                None
            }
        };
        let header = Header {
            graph: graph.clone(),
            points: self.points.len(),
        };
        self.write_docs(&header).map_err(RetrievalError::Index)?;
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

fn remove_old_dumps(dir: &Path, keep: Option<&str>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dump = name.starts_with("graph-") && name.contains(".hnsw.");
        if is_dump && keep.is_none_or(|k| !name.starts_with(&format!("{k}.hnsw."))) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    fn doc(id: &str, text: &str, v: &[f32], path: &str) -> Document {
        Document {
            id: id.into(),
            text: text.into(),
            embedding: unit(v),
            fields: BTreeMap::from([("path".to_string(), path.to_string())]),
        }
    }

    fn query<'a>(text: &'a str, v: &'a [f32], k: usize) -> Query<'a> {
        Query {
            text,
            embedding: v,
            k,
            filter: super::super::Filter::default(),
        }
    }

    #[test]
    fn finds_by_words_and_by_meaning_and_survives_reopening() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut store = HybridStore::open(dir.path(), 3).expect("opens");
        store
            .upsert(vec![
                doc(
                    "a",
                    "the plumber comes on tuesday",
                    &[1.0, 0.0, 0.0],
                    "home/plumber.md",
                ),
                doc(
                    "b",
                    "pasta with leeks and cream",
                    &[0.0, 1.0, 0.0],
                    "food/pasta.md",
                ),
                doc(
                    "c",
                    "the boiler needs service",
                    &[0.9, 0.1, 0.0],
                    "home/boiler.md",
                ),
            ])
            .expect("upsert");
        store.persist().expect("persist");

        let by_words = store
            .search(&query("leeks", &[0.0, 0.0, 1.0], 1))
            .expect("search");
        assert_eq!(by_words[0].id, "b");
        let meaning = unit(&[0.0, 1.0, 0.1]);
        let by_meaning = store.search(&query("dinner", &meaning, 1)).expect("search");
        assert_eq!(by_meaning[0].id, "b");

        drop(store);
        let reopened = HybridStore::open(dir.path(), 3).expect("reopens");
        assert_eq!(reopened.stats().documents, 3);
        let hit = reopened
            .search(&query("plumber", &unit(&[1.0, 0.0, 0.0]), 1))
            .expect("search");
        assert_eq!(hit[0].id, "a");
    }

    #[test]
    fn upsert_replaces_and_delete_removes() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut store = HybridStore::open(dir.path(), 3).expect("opens");
        store
            .upsert(vec![doc("a", "old text about cats", &[1.0, 0.0, 0.0], "x.md")])
            .expect("upsert");
        store
            .upsert(vec![doc("a", "new text about dogs", &[0.0, 1.0, 0.0], "x.md")])
            .expect("upsert");
        store.persist().expect("persist");
        assert_eq!(store.stats().documents, 1);
        assert!(
            store
                .search(&query("cats", &[0.0, 0.0, 1.0], 5))
                .expect("search")
                .iter()
                .all(|h| h.text.contains("dogs"))
        );
        assert_eq!(store.ids_where("path", "x.md"), vec!["a".to_string()]);
        assert_eq!(store.delete(&["a".to_string()]).expect("delete"), 1);
        store.persist().expect("persist");
        assert!(
            store
                .search(&query("dogs", &unit(&[0.0, 1.0, 0.0]), 5))
                .expect("search")
                .is_empty()
        );
    }

    #[test]
    fn filters_restrict_both_rankers() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut store = HybridStore::open(dir.path(), 3).expect("opens");
        store
            .upsert(vec![
                doc("a", "tuesday plumber", &[1.0, 0.0, 0.0], "home/a.md"),
                doc("b", "tuesday football", &[1.0, 0.1, 0.0], "sport/b.md"),
            ])
            .expect("upsert");
        store.persist().expect("persist");
        let mut q = query("tuesday", &[1.0, 0.0, 0.0], 5);
        q.filter.path_prefix = Some("sport/".into());
        let hits = store.search(&q).expect("search");
        assert_eq!(hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), vec!["b"]);
    }

    fn dumps(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("graph-") && n.ends_with(".hnsw.graph"))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_graph_is_dumped_reloaded_and_replaced() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut store = HybridStore::open(dir.path(), 3).expect("opens");
        store
            .upsert(vec![doc("a", "plumber tuesday", &[1.0, 0.0, 0.0], "a.md")])
            .expect("upsert");
        store.persist().expect("persist");
        let first = dumps(dir.path());
        assert_eq!(first.len(), 1);
        store
            .upsert(vec![doc("b", "pasta leeks", &[0.0, 1.0, 0.0], "b.md")])
            .expect("upsert");
        store.persist().expect("persist");
        let second = dumps(dir.path());
        assert_eq!(second.len(), 1, "the old dump is removed");
        assert_ne!(first, second);
        drop(store);

        let mut reopened = HybridStore::open(dir.path(), 3).expect("reopens from the dump");
        assert_eq!(reopened.stats().documents, 2);
        assert_eq!(
            reopened.ann_search(&unit(&[0.0, 1.0, 0.0]), 1),
            vec!["b".to_string()]
        );
        // A reloaded graph keeps growing.
        reopened
            .upsert(vec![doc("c", "garden bees", &[0.0, 0.0, 1.0], "c.md")])
            .expect("upsert");
        assert_eq!(
            reopened.ann_search(&unit(&[0.0, 0.1, 1.0]), 1),
            vec!["c".to_string()]
        );
        drop(reopened);

        // A damaged dump costs a rebuild, never the documents.
        std::fs::write(dir.path().join(&second[0]), b"garbage").expect("damage");
        let rebuilt = HybridStore::open(dir.path(), 3).expect("reopens by rebuilding");
        assert_eq!(
            rebuilt.stats().documents,
            2,
            "the unpersisted upsert of c is not there"
        );
        assert_eq!(
            rebuilt.ann_search(&unit(&[1.0, 0.0, 0.0]), 1),
            vec!["a".to_string()]
        );
    }

    #[test]
    fn wrong_dimensions_are_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut store = HybridStore::open(dir.path(), 3).expect("opens");
        let err = store
            .upsert(vec![doc("a", "x", &[1.0, 0.0], "x.md")])
            .expect_err("refused");
        assert!(matches!(err, RetrievalError::Dimensions { .. }));
    }
}
