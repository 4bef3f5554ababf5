//! `hauski bench brain`: embedding throughput, index build, hybrid search
//! latency, the semantic ranker's recall against exact search (it is exact up
//! to the store's scan limit; the HNSW graph's `ef` sweep beyond), the loaded
//! index's memory, and the index after edits,
//! on a synthetic corpus made from a fixed seed.

use std::time::Instant;

use anyhow::{Result, bail};
use hauski_brain::cosine;
use hauski_brain::retrieval::{Document, Filter, HybridStore, Query, VectorStore};
use serde_json::{Value, json};

use crate::BenchArgs;
use crate::report::{cell, percentile, publish};
use hauski::config::ModelKind;
use hauski::engines::App;

const EMBED_BATCH: usize = 32;
const QUERIES: usize = 200;
const RECALL_QUERIES: usize = 100;
const TOP_K: usize = 20;
/// The corpus generator's seed: the same corpus every run.
const SEED: u64 = 42;

/// Household words the generated notes are made of.
const WORDS: &[&str] = &[
    "kitchen",
    "garden",
    "plumber",
    "boiler",
    "window",
    "door",
    "key",
    "code",
    "bike",
    "car",
    "school",
    "lesson",
    "piano",
    "bread",
    "oven",
    "recipe",
    "tomato",
    "water",
    "meter",
    "insurance",
    "tax",
    "doctor",
    "appointment",
    "holiday",
    "flight",
    "train",
    "ticket",
    "museum",
    "book",
    "chapter",
    "birthday",
    "cake",
    "neighbour",
    "heating",
    "radiator",
    "roof",
    "gutter",
    "paint",
    "wall",
    "floor",
    "carpet",
    "lamp",
    "bulb",
    "fuse",
    "router",
    "password",
    "printer",
    "ink",
    "paper",
    "letter",
    "parcel",
    "delivery",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "morning",
    "evening",
    "coffee",
    "tea",
    "milk",
    "cheese",
    "apple",
    "pear",
    "soup",
    "pasta",
    "rice",
    "onion",
    "garlic",
    "pepper",
    "salt",
    "sugar",
    "flour",
    "butter",
    "egg",
    "chicken",
    "fish",
    "salad",
    "dinner",
    "lunch",
    "breakfast",
    "shopping",
    "market",
    "bakery",
    "pharmacy",
    "dentist",
    "vet",
    "cat",
    "dog",
    "walk",
    "park",
    "lake",
    "forest",
    "mountain",
    "beach",
    "sun",
    "rain",
    "snow",
    "wind",
    "coat",
    "shoes",
    "umbrella",
];

/// A tiny deterministic generator: the corpus must be the same every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }

    fn phrase(&mut self, words: usize) -> String {
        (0..words)
            .map(|_| WORDS[self.next() % WORDS.len()])
            .collect::<Vec<_>>()
            .join(" ")
    }
}

pub fn run(app: &App, args: &BenchArgs) -> Result<()> {
    if args.chunks < 1_000 {
        bail!(
            "--chunks {} is too few to say anything about an index; use at least 1000",
            args.chunks
        );
    }
    let mut rng = Lcg(SEED);
    let chunks: Vec<String> = (0..args.chunks)
        .map(|_| {
            let words = 30 + rng.next() % 20;
            format!("{}.", rng.phrase(words))
        })
        .collect();

    let embedder = app.load_embedder()?;
    let model = app
        .choose(ModelKind::Embed, &app.config.models.defaults.embed, None)?
        .checksum()
        .hex()
        .to_string();
    let cache = EmbeddingCache {
        chunks: chunks.len(),
        dimensions: embedder.dimensions(),
        model_sha256: model,
    };
    let cached = if args.fresh_embeddings { None } else { cache.load() };
    let embedding_cached = cached.is_some();
    let (vectors, embedding) = match cached {
        Some((vectors, measured)) => {
            eprintln!(
                "bench brain: the corpus's embeddings from {} (--fresh-embeddings embeds again)",
                cache.vectors_path().display()
            );
            (vectors, measured)
        }
        None => {
            eprintln!("bench brain: embedding {} chunks", chunks.len());
            let started = Instant::now();
            let mut vectors = Vec::with_capacity(chunks.len());
            for (n, batch) in chunks.chunks(EMBED_BATCH).enumerate() {
                let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
                vectors.extend(embedder.embed(&refs)?);
                if n % 100 == 0 {
                    eprintln!("  {} / {}", vectors.len(), chunks.len());
                }
            }
            let seconds = started.elapsed().as_secs_f64();
            let measured = json!({
                "model": format!("all-MiniLM-L6-v2 ({})", engine_and_precision(&embedder)),
                "batch": EMBED_BATCH,
                "seconds": seconds,
                "chunks_per_s": chunks.len() as f64 / seconds,
                "measured_at_unix_s": std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
            });
            if let Err(e) = cache.save(&vectors, &measured) {
                eprintln!("bench brain: could not keep the embeddings for the next run: {e}");
            }
            (vectors, measured)
        }
    };

    // A data dir of the bench's own, so a fresh process can load the index the
    // way `hauski` does and report its load time and memory.
    let data = std::path::Path::new("target/bench/brain-data");
    if data.exists() {
        std::fs::remove_dir_all(data)?;
    }
    let dir = &data.join("index");
    eprintln!("bench brain: building the index");
    let started = Instant::now();
    let mut store = HybridStore::open(dir, embedder.dimensions())?;
    let documents: Vec<Document> = chunks
        .iter()
        .zip(&vectors)
        .enumerate()
        .map(|(i, (text, v))| Document {
            id: format!("note-{:05}.md#{}", i / 10, i % 10),
            text: text.clone(),
            embedding: v.clone(),
            fields: [("path".to_string(), format!("note-{:05}.md", i / 10))].into(),
        })
        .collect();
    store.upsert(documents)?;
    store.persist()?;
    let build_s = started.elapsed().as_secs_f64();
    drop(store);

    hauski_brain::notes::Manifest::default().save(&dir.join("manifest.json"))?;
    let loaded = load_in_fresh_process(app, data)?;
    let mut store = HybridStore::open(dir, embedder.dimensions())?;

    eprintln!("bench brain: {QUERIES} searches");
    let queries: Vec<String> = (0..QUERIES).map(|_| rng.phrase(6)).collect();
    let started = Instant::now();
    let query_vectors: Vec<Vec<f32>> = queries
        .iter()
        .map(|q| embedder.embed_one(q))
        .collect::<Result<_, _>>()?;
    let query_embed_ms = started.elapsed().as_secs_f64() * 1000.0 / QUERIES as f64;
    let mut latencies = Vec::with_capacity(QUERIES);
    for (q, v) in queries.iter().zip(&query_vectors) {
        let started = Instant::now();
        let hits = store.search(&Query {
            text: q,
            embedding: v,
            k: TOP_K,
            filter: Filter::default(),
        })?;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        if hits.is_empty() {
            bail!("a search over {} chunks found nothing", chunks.len());
        }
    }
    latencies.sort_by(f64::total_cmp);

    let (lexical_ms, semantic_ms) = rankers_alone_ms(&store, &queries, &query_vectors, TOP_K)?;

    eprintln!("bench brain: the semantic ranker's recall against exact search");
    let ids: Vec<String> = (0..chunks.len())
        .map(|i| format!("note-{:05}.md#{}", i / 10, i % 10))
        .collect();
    let truths: Vec<Vec<&str>> = query_vectors
        .iter()
        .take(RECALL_QUERIES)
        .map(|q| {
            let mut exact: Vec<(f32, usize)> = vectors
                .iter()
                .enumerate()
                .map(|(i, v)| (cosine(q, v), i))
                .collect();
            exact.sort_by(|a, b| b.0.total_cmp(&a.0));
            exact.iter().take(10).map(|(_, i)| ids[*i].as_str()).collect()
        })
        .collect();
    let recall_of = |search: &dyn Fn(&[f32]) -> Vec<String>| -> f64 {
        let found: f64 = query_vectors
            .iter()
            .zip(&truths)
            .map(|(q, truth)| {
                let ann = search(q);
                ann.iter().filter(|id| truth.contains(&id.as_str())).count() as f64 / 10.0
            })
            .sum();
        found / truths.len() as f64
    };
    let recall = recall_of(&|q| store.ann_search(q, 10));
    // On the graph, what a wider search would buy: recall@10 and latency by `ef`.
    let sweep_efs: &[usize] = if store.semantic_index() == "hnsw" {
        &[64, 128, 256]
    } else {
        &[]
    };
    let sweep: Vec<Value> = sweep_efs
        .iter()
        .map(|&ef| {
            let started = Instant::now();
            let recall = recall_of(&|q| store.ann_search_with_ef(q, 10, ef));
            let ms = started.elapsed().as_secs_f64() * 1000.0 / truths.len() as f64;
            json!({ "ef": ef, "recall_at_10": recall, "mean_ms": ms })
        })
        .collect();

    let engines = crate::embed_engines::compare(app, &embedder, &chunks, &queries, EMBED_BATCH)?;
    let index_bytes_on_disk = store.stats().bytes_on_disk;
    let corpus = crate::brain_edits::Corpus {
        chunks: &chunks,
        vectors: &vectors,
        ids: &ids,
    };
    let after_edits =
        crate::brain_edits::measure(&mut store, &embedder, &corpus, &queries, TOP_K, RECALL_QUERIES)?;

    let report = json!({
        "corpus": { "chunks": chunks.len(), "seed": SEED, "words_per_chunk": "30-49" },
        "machine": { "cores": std::thread::available_parallelism().map_or(1, usize::from) },
        "embedding": embedding,
        "embedding_cached": embedding_cached,
        "embedding_engines": engines,
        "index": {
            "build_s": build_s,
            "load_s": loaded["load_s"],
            "bytes_on_disk": index_bytes_on_disk,
            "memory_bytes": loaded["memory_bytes"],
        },
        "search": {
            "k": TOP_K,
            "queries": QUERIES,
            "latency_ms": { "p50": percentile(&latencies, 50.0), "p95": percentile(&latencies, 95.0) },
            "query_embedding_ms": query_embed_ms,
            "bm25_alone_ms": { "p50": percentile(&lexical_ms, 50.0), "p95": percentile(&lexical_ms, 95.0) },
            "semantic_alone_ms": { "p50": percentile(&semantic_ms, 50.0), "p95": percentile(&semantic_ms, 95.0) },
            "target_p95_ms": 10.0,
        },
        "semantic_index": store.semantic_index(),
        "semantic_scan_bytes": store.scan_bytes(),
        "semantic_recall_at_10": recall,
        "hnsw_ef_sweep": sweep,
        "after_edits": after_edits,
    });
    publish(args, "brain", &report, &table(&report))
}

/// Each ranker alone, on the same queries and candidate count as the hybrid
/// search (which runs them side by side): sorted BM25 and semantic times in ms.
pub(crate) fn rankers_alone_ms(
    store: &HybridStore,
    queries: &[String],
    query_vectors: &[Vec<f32>],
    top_k: usize,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let candidates = HybridStore::candidates_for(top_k);
    let (mut lexical_ms, mut semantic_ms) = (Vec::new(), Vec::new());
    for (q, v) in queries.iter().zip(query_vectors) {
        let started = Instant::now();
        store.lexical_search(q, candidates)?;
        lexical_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        store.ann_search(v, candidates);
        semantic_ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    lexical_ms.sort_by(f64::total_cmp);
    semantic_ms.sort_by(f64::total_cmp);
    Ok((lexical_ms, semantic_ms))
}

fn table(r: &Value) -> String {
    [
        format!(
            "| figure ({} synthetic chunks, 2 cores) | value |",
            r["corpus"]["chunks"]
        ),
        "|---|---|".to_string(),
        format!(
            "| embedding throughput (chunks/s, 32 a call){} | {} |",
            if r["embedding_cached"].as_bool() == Some(true) {
                ", from the run that embedded the corpus"
            } else {
                ""
            },
            cell(&r["embedding"]["chunks_per_s"], 1)
        ),
        format!(
            "| embedding throughput side by side, ONNX Runtime int8 / candle fp32 (chunks/s, 32 a call, {} chunks) | {} / {} |",
            r["embedding_engines"]["chunks"],
            cell(&r["embedding_engines"]["onnxruntime"]["chunks_per_s"], 1),
            cell(&r["embedding_engines"]["candle"]["chunks_per_s"], 1)
        ),
        format!(
            "| one query's embedding, ONNX Runtime int8 / candle fp32, p50 / p95 (ms) | {} / {}; {} / {} |",
            cell(&r["embedding_engines"]["onnxruntime"]["query_ms"]["p50"], 1),
            cell(&r["embedding_engines"]["onnxruntime"]["query_ms"]["p95"], 1),
            cell(&r["embedding_engines"]["candle"]["query_ms"]["p50"], 1),
            cell(&r["embedding_engines"]["candle"]["query_ms"]["p95"], 1)
        ),
        format!(
            "| index build after embedding (s) | {} |",
            cell(&r["index"]["build_s"], 1)
        ),
        format!("| index load on start (s) | {} |", cell(&r["index"]["load_s"], 2)),
        format!(
            "| top-20 hybrid search latency p50 / p95 (ms) | {} / {} |",
            cell(&r["search"]["latency_ms"]["p50"], 2),
            cell(&r["search"]["latency_ms"]["p95"], 2)
        ),
        format!(
            "| … each ranker alone, BM25 / semantic, p50 (ms); the search runs them side by side | {} / {} |",
            cell(&r["search"]["bm25_alone_ms"]["p50"], 2),
            cell(&r["search"]["semantic_alone_ms"]["p50"], 2)
        ),
        format!(
            "| query embedding (ms) | {} |",
            cell(&r["search"]["query_embedding_ms"], 1)
        ),
        format!(
            "| semantic ranker ({}) recall@10 vs exact | {} |",
            r["semantic_index"].as_str().unwrap_or("?"),
            cell(&r["semantic_recall_at_10"], 3)
        ),
        {
            let sweep = r["hnsw_ef_sweep"].as_array().cloned().unwrap_or_default();
            let efs: Vec<String> = sweep.iter().map(|s| s["ef"].to_string()).collect();
            let figures: Vec<String> = sweep
                .iter()
                .map(|s| format!("{} / {}", cell(&s["recall_at_10"], 3), cell(&s["mean_ms"], 1)))
                .collect();
            // Only a store on the graph has a sweep.
            if sweep.is_empty() {
                String::new()
            } else {
                format!(
                    "| HNSW recall@10 / mean ms at ef {} | {} |",
                    efs.join(", "),
                    figures.join(", ")
                )
            }
        },
        format!(
            "| loaded index memory (MB) | {:.0} |",
            r["index"]["memory_bytes"].as_f64().unwrap_or(0.0) / 1e6
        ),
        format!(
            "| after {} chunks edited and {} deleted: search with the query's own embedding, p50 / p95 (ms; target p95 < 10) | {} / {} |",
            r["after_edits"]["edited"],
            r["after_edits"]["deleted"],
            cell(&r["after_edits"]["search_with_query_embedding_ms"]["p50"], 2),
            cell(&r["after_edits"]["search_with_query_embedding_ms"]["p95"], 2)
        ),
        format!(
            "| … of it the search alone, p50 / p95 (ms); BM25 / semantic alone, p50 | {} / {}; {} / {} |",
            cell(&r["after_edits"]["search_alone_ms"]["p50"], 2),
            cell(&r["after_edits"]["search_alone_ms"]["p95"], 2),
            cell(&r["after_edits"]["bm25_alone_ms"]["p50"], 2),
            cell(&r["after_edits"]["semantic_alone_ms"]["p50"], 2)
        ),
        format!(
            "| … semantic recall@10 vs exact over the live chunks (target ≥ 0.95); deleted chunks returned | {} ; {} |",
            cell(&r["after_edits"]["semantic_recall_at_10"], 3),
            r["after_edits"]["deleted_returned"]
        ),
    ]
    .into_iter()
    .filter(|row| !row.is_empty())
    .collect::<Vec<_>>()
    .join("\n")
}

/// Opens the index in a new `hauski index status` process: its memory is then
/// the index's alone, not what this process's allocator kept from building it.
fn load_in_fresh_process(app: &App, data: &std::path::Path) -> Result<Value> {
    let mut cmd = std::process::Command::new(crate::hauski_exe()?);
    cmd.arg("--data")
        .arg(data)
        .arg("--models")
        .arg(app.roots.describe());
    if let Some(config) = &app.config.dir {
        cmd.arg("--config").arg(config);
    }
    let out = cmd.args(["index", "status", "--json"]).output()?;
    if !out.status.success() {
        bail!(
            "loading the bench index failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// The corpus's embeddings, kept in target/bench between runs: embedding
/// 100 000 chunks takes over half an hour on 2 cores, while the index and
/// search figures take minutes. The embedding figures reported with cached
/// vectors are the ones measured when they were made (`measured_at_unix_s`).
/// Kept as raw little-endian f32 beside a JSON description; either missing,
/// unreadable or describing another corpus or model means embedding again.
struct EmbeddingCache {
    chunks: usize,
    dimensions: usize,
    model_sha256: String,
}

impl EmbeddingCache {
    fn vectors_path(&self) -> std::path::PathBuf {
        std::path::PathBuf::from(format!("target/bench/brain-embeddings-{}.f32", self.chunks))
    }

    fn description_path(&self) -> std::path::PathBuf {
        self.vectors_path().with_extension("json")
    }

    fn describes_this_corpus(&self, description: &Value) -> bool {
        description["chunks"].as_u64() == Some(self.chunks as u64)
            && description["dimensions"].as_u64() == Some(self.dimensions as u64)
            && description["seed"].as_u64() == Some(SEED)
            && description["model_sha256"].as_str() == Some(self.model_sha256.as_str())
    }

    fn load(&self) -> Option<(Vec<Vec<f32>>, Value)> {
        let description: Value =
            serde_json::from_str(&std::fs::read_to_string(self.description_path()).ok()?).ok()?;
        if !self.describes_this_corpus(&description) {
            return None;
        }
        let bytes = std::fs::read(self.vectors_path()).ok()?;
        if bytes.len() != self.chunks * self.dimensions * 4 {
            return None;
        }
        let floats: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let vectors = floats
            .chunks_exact(self.dimensions)
            .map(<[f32]>::to_vec)
            .collect();
        Some((vectors, description["measured"].clone()))
    }

    fn save(&self, vectors: &[Vec<f32>], measured: &Value) -> std::io::Result<()> {
        std::fs::create_dir_all("target/bench")?;
        let mut bytes = Vec::with_capacity(vectors.len() * self.dimensions * 4);
        for v in vectors {
            bytes.extend(v.iter().flat_map(|x| x.to_le_bytes()));
        }
        std::fs::write(self.vectors_path(), bytes)?;
        let description = json!({
            "chunks": self.chunks,
            "dimensions": self.dimensions,
            "seed": SEED,
            "model_sha256": self.model_sha256,
            "measured": measured,
        });
        std::fs::write(
            self.description_path(),
            serde_json::to_string_pretty(&description)?,
        )
    }
}

/// The engine and the weights it runs: the ONNX graph is the int8 export.
fn engine_and_precision(embedder: &hauski_brain::Embedder) -> String {
    let precision = if embedder.engine() == "onnxruntime" {
        "int8"
    } else {
        "F32"
    };
    format!("{}, {precision}", embedder.engine())
}
