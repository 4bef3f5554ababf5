//! The embedder's two engines side by side in one run, on the same chunks and
//! queries, taking turns: ONNX Runtime on the exported int8 graph (the
//! default) and candle on the fp32 safetensors. Throughput at the corpus's
//! batch size, one query's embedding, and how far apart their vectors are.

use std::time::Instant;

use anyhow::{Result, bail};
use hauski_brain::Embedder;
use serde_json::{Value, json};

use crate::report::percentile;
use hauski::engines::App;

/// Batches of the corpus each engine embeds for the comparison.
const BATCHES: usize = 12;
const QUERIES: usize = 100;

/// `onnx` is the bench's default embedder; candle's is loaded here.
pub(crate) fn compare(
    app: &App,
    onnx: &Embedder,
    chunks: &[String],
    queries: &[String],
    batch: usize,
) -> Result<Value> {
    eprintln!("bench brain: the embedder on ONNX Runtime and on candle, side by side");
    let candle = app.load_candle_embedder()?;
    if onnx.engine() == candle.engine() {
        bail!(
            "the default embedder runs on {}, not ONNX Runtime: run scripts/export-embedder.sh",
            onnx.engine()
        );
    }
    let engines = [onnx, &candle];
    let mut seconds = [0.0f64; 2];
    let mut lowest_cosine = 1.0f32;
    // One batch each first: first-run allocations are not what a corpus costs.
    let warm: Vec<&str> = chunks.iter().take(batch).map(String::as_str).collect();
    for engine in engines {
        engine.embed(&warm)?;
    }
    for (n, texts) in chunks.chunks(batch).skip(1).take(BATCHES).enumerate() {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let mut outputs = Vec::new();
        // Taking turns going first, so neither always runs on a cooler core.
        for k in 0..2 {
            let which = (n + k) % 2;
            let started = Instant::now();
            outputs.push((which, engines[which].embed(&refs)?));
            seconds[which] += started.elapsed().as_secs_f64();
        }
        lowest_cosine = lowest_cosine.min(lowest_similarity(&outputs[0].1, &outputs[1].1));
    }
    let embedded_chunks = BATCHES * batch;
    let embedded = embedded_chunks as f64;
    let mut query_ms = [Vec::new(), Vec::new()];
    for (n, query) in queries.iter().take(QUERIES).enumerate() {
        for k in 0..2 {
            let which = (n + k) % 2;
            let started = Instant::now();
            engines[which].embed_one(query)?;
            query_ms[which].push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let [onnx_ms, candle_ms] = query_ms.map(|mut v| {
        v.sort_by(f64::total_cmp);
        v
    });
    let report = |chunks_s: f64, ms: &[f64]| {
        json!({
            "chunks_per_s": chunks_s,
            "query_ms": { "p50": percentile(ms, 50.0), "p95": percentile(ms, 95.0) },
        })
    };
    Ok(json!({
        "chunks": embedded_chunks,
        "batch": batch,
        "queries": QUERIES.min(queries.len()),
        "onnxruntime": report(embedded / seconds[0], &onnx_ms),
        "candle": report(embedded / seconds[1], &candle_ms),
        "throughput_ratio": seconds[1] / seconds[0],
        // The int8 graph against candle's fp32: how far quantisation moved the vectors.
        "lowest_cosine_between_engines": lowest_cosine,
    }))
}

fn lowest_similarity(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| hauski_brain::cosine(x, y))
        .fold(1.0, f32::min)
}
