//! `hauski bench brain`: embedding throughput, index build, hybrid search
//! latency, HNSW recall against exact search, and the loaded index's memory,
//! on a synthetic corpus made from a fixed seed.

use std::time::Instant;

use anyhow::{Result, bail};
use hauski_brain::cosine;
use hauski_brain::retrieval::{Document, Filter, HybridStore, Query, VectorStore};
use serde_json::{Value, json};

use super::bench::{percentile, publish};
use crate::cli::BenchArgs;
use crate::engines::App;

const EMBED_BATCH: usize = 32;
const QUERIES: usize = 200;
const RECALL_QUERIES: usize = 100;
const TOP_K: usize = 20;

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
    let mut rng = Lcg(42);
    let chunks: Vec<String> = (0..args.chunks)
        .map(|_| {
            let words = 30 + rng.next() % 20;
            format!("{}.", rng.phrase(words))
        })
        .collect();

    eprintln!("bench brain: embedding {} chunks", chunks.len());
    let embedder = app.load_embedder()?;
    let started = Instant::now();
    let mut vectors = Vec::with_capacity(chunks.len());
    for (n, batch) in chunks.chunks(EMBED_BATCH).enumerate() {
        let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
        vectors.extend(embedder.embed(&refs)?);
        if n % 100 == 0 {
            eprintln!("  {} / {}", vectors.len(), chunks.len());
        }
    }
    let embed_s = started.elapsed().as_secs_f64();

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
    let store = HybridStore::open(dir, embedder.dimensions())?;

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

    eprintln!("bench brain: HNSW recall against exact search");
    let ids: Vec<String> = (0..chunks.len())
        .map(|i| format!("note-{:05}.md#{}", i / 10, i % 10))
        .collect();
    let recalls: Vec<f64> = query_vectors
        .iter()
        .take(RECALL_QUERIES)
        .map(|q| {
            let mut exact: Vec<(f32, usize)> = vectors
                .iter()
                .enumerate()
                .map(|(i, v)| (cosine(q, v), i))
                .collect();
            exact.sort_by(|a, b| b.0.total_cmp(&a.0));
            let truth: Vec<&str> = exact.iter().take(10).map(|(_, i)| ids[*i].as_str()).collect();
            let ann = store.ann_search(q, 10);
            ann.iter().filter(|id| truth.contains(&id.as_str())).count() as f64 / 10.0
        })
        .collect();
    let recall = recalls.iter().sum::<f64>() / recalls.len() as f64;

    let report = json!({
        "corpus": { "chunks": chunks.len(), "seed": 42, "words_per_chunk": "30-49" },
        "machine": { "cores": std::thread::available_parallelism().map_or(1, usize::from) },
        "embedding": {
            "model": "all-MiniLM-L6-v2 (candle, F32)",
            "batch": EMBED_BATCH,
            "seconds": embed_s,
            "chunks_per_s": chunks.len() as f64 / embed_s,
        },
        "index": {
            "build_s": build_s,
            "load_s": loaded["load_s"],
            "bytes_on_disk": store.stats().bytes_on_disk,
            "memory_bytes": loaded["memory_bytes"],
        },
        "search": {
            "k": TOP_K,
            "queries": QUERIES,
            "latency_ms": { "p50": percentile(&latencies, 50.0), "p95": percentile(&latencies, 95.0) },
            "query_embedding_ms": query_embed_ms,
            "target_p95_ms": 10.0,
        },
        "hnsw_recall_at_10": recall,
    });
    publish(args, "brain", &report, &table(&report))
}

fn table(r: &Value) -> String {
    let f = |v: &Value, d: usize| v.as_f64().map_or_else(|| "–".to_string(), |x| format!("{x:.d$}"));
    [
        format!(
            "| figure ({} synthetic chunks, 2 cores) | value |",
            r["corpus"]["chunks"]
        ),
        "|---|---|".to_string(),
        format!(
            "| embedding throughput (chunks/s, batch 32) | {} |",
            f(&r["embedding"]["chunks_per_s"], 1)
        ),
        format!(
            "| index build after embedding (s) | {} |",
            f(&r["index"]["build_s"], 1)
        ),
        format!("| index load on start (s) | {} |", f(&r["index"]["load_s"], 2)),
        format!(
            "| top-20 hybrid search latency p50 / p95 (ms) | {} / {} |",
            f(&r["search"]["latency_ms"]["p50"], 2),
            f(&r["search"]["latency_ms"]["p95"], 2)
        ),
        format!(
            "| query embedding (ms) | {} |",
            f(&r["search"]["query_embedding_ms"], 1)
        ),
        format!("| HNSW recall@10 vs exact | {} |", f(&r["hnsw_recall_at_10"], 3)),
        format!(
            "| loaded index memory (MB) | {:.0} |",
            r["index"]["memory_bytes"].as_f64().unwrap_or(0.0) / 1e6
        ),
    ]
    .join("\n")
}

/// Opens the index in a new `hauski index status` process: its memory is then
/// the index's alone, not what this process's allocator kept from building it.
fn load_in_fresh_process(app: &App, data: &std::path::Path) -> Result<Value> {
    let mut cmd = std::process::Command::new(std::env::current_exe()?);
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
