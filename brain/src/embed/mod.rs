//! Sentence embeddings: all-MiniLM-L6-v2 style BERT models (mean pooling over
//! the attention mask, L2-normalised) on one of two engines: ONNX Runtime on
//! the int8 graph that `scripts/export-minilm-onnx.py` writes from the
//! safetensors, or candle-transformers on the safetensors themselves (fp32).
//! Their vectors differ by a cosine of about 0.01, which leaves retrieval as
//! good either way, so an index built on one is searched by the other. ONNX
//! Runtime is the default because it is the faster of the two here
//! (ARCHITECTURE.md, "Retrieval over notes"); candle needs nothing but the
//! shipped files.

mod candle;
mod onnx;

use std::path::Path;

use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::BrainError;

/// Longest input in tokens; sentence-transformers trained MiniLM at 256.
const MAX_TOKENS: usize = 256;

/// Which engine runs the model.
enum Engine {
    Candle(Box<candle::CandleBert>),
    Onnx(onnx::OnnxBert),
}

/// One batch as the engines take it: `rows` inputs of `cols` tokens each,
/// row-major, padding masked out.
struct Batch {
    rows: usize,
    cols: usize,
    ids: Vec<u32>,
    mask: Vec<u32>,
}

impl Batch {
    /// Row `row` alone, its padding cut off (the tokenizer pads on the right).
    fn row(&self, row: usize) -> Batch {
        let span = row * self.cols..(row + 1) * self.cols;
        let mask = &self.mask[span.clone()];
        let len = mask.iter().take_while(|&&m| m != 0).count().max(1);
        Batch {
            rows: 1,
            cols: len,
            ids: self.ids[span.start..span.start + len].to_vec(),
            mask: mask[..len].to_vec(),
        }
    }
}

pub struct Embedder {
    engine: Engine,
    tokenizer: Tokenizer,
    dimensions: usize,
}

impl Embedder {
    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from `dir`
    /// and runs them on candle.
    pub fn load(dir: &Path) -> Result<Self, BrainError> {
        let _span = tracing::info_span!("embed_load", engine = "candle", dir = %dir.display()).entered();
        require_files(dir, &["config.json", "tokenizer.json", "model.safetensors"])?;
        let (model, dimensions) = candle::CandleBert::load(dir)?;
        Ok(Self {
            engine: Engine::Candle(Box::new(model)),
            tokenizer: load_tokenizer(dir)?,
            dimensions,
        })
    }

    /// Loads the ONNX graph `model` (see `scripts/export-minilm-onnx.py`) with
    /// `tokenizer.json` from `tokenizer_dir`, run on `threads` threads.
    ///
    /// ONNX Runtime must already be loaded in this process (the binary loads it
    /// once at start, for the voices too): this crate only creates sessions.
    pub fn load_onnx(model: &Path, tokenizer_dir: &Path, threads: usize) -> Result<Self, BrainError> {
        let _span = tracing::info_span!("embed_load", engine = "onnx", model = %model.display()).entered();
        if !model.is_file() {
            return Err(BrainError::EmbedMissing {
                path: model.to_path_buf(),
                fix: "run scripts/export-embedder.sh to write it from the safetensors",
            });
        }
        require_files(tokenizer_dir, &["tokenizer.json"])?;
        let (model, dimensions) = onnx::OnnxBert::load(model, threads)?;
        Ok(Self {
            engine: Engine::Onnx(model),
            tokenizer: load_tokenizer(tokenizer_dir)?,
            dimensions,
        })
    }

    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// The engine's name, for logs and bench figures.
    pub fn engine(&self) -> &'static str {
        match self.engine {
            Engine::Candle(_) => "candle",
            Engine::Onnx(_) => "onnxruntime",
        }
    }

    /// Embeds one text.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>, BrainError> {
        let mut v = self.embed(&[text])?;
        v.pop()
            .ok_or_else(|| BrainError::engine("embedding", "no output"))
    }

    /// Embeds texts as one batch; the output has one unit vector per input.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, BrainError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let _span = tracing::debug_span!("embed", batch = texts.len(), engine = self.engine()).entered();
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| BrainError::engine("tokenizing", e))?;
        let batch = Batch {
            rows: encodings.len(),
            cols: encodings.first().map_or(0, |e| e.get_ids().len()),
            ids: encodings.iter().flat_map(|e| e.get_ids().to_vec()).collect(),
            mask: encodings
                .iter()
                .flat_map(|e| e.get_attention_mask().to_vec())
                .collect(),
        };
        let vectors = match &self.engine {
            Engine::Candle(model) => model.forward(&batch)?,
            // One input a call: the int8 graph quantises a call's activations
            // with one scale, so in a batch an input's vector would depend on
            // its neighbours (cosine 0.975–0.984 to itself alone). Alone, nothing is
            // padded either, and it is no slower (ARCHITECTURE.md).
            Engine::Onnx(model) => {
                let mut vectors = Vec::with_capacity(batch.rows);
                for row in 0..batch.rows {
                    vectors.extend(model.forward(&batch.row(row))?);
                }
                vectors
            }
        };
        if vectors.len() != texts.len() || vectors.iter().any(|v| v.len() != self.dimensions) {
            return Err(BrainError::engine(
                "embedding",
                format!("expected {} vectors of {}", texts.len(), self.dimensions),
            ));
        }
        Ok(vectors)
    }
}

fn require_files(dir: &Path, files: &[&str]) -> Result<(), BrainError> {
    match files.iter().map(|f| dir.join(f)).find(|p| !p.is_file()) {
        Some(path) => Err(BrainError::EmbedMissing {
            path,
            fix: "all-MiniLM-L6-v2 comes with ../shared/models; set HAUSKI_MODELS to the folder that holds it",
        }),
        None => Ok(()),
    }
}

fn load_tokenizer(dir: &Path) -> Result<Tokenizer, BrainError> {
    let fail = |reason: String| BrainError::EmbedLoad {
        path: dir.to_path_buf(),
        reason,
    };
    let mut tokenizer =
        Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| fail(format!("tokenizer.json: {e}")))?;
    // The shipped tokenizer pads every input to 128; pad each batch only to
    // its longest input, and let the attention mask hide the padding.
    tokenizer.with_padding(Some(PaddingParams {
        strategy: PaddingStrategy::BatchLongest,
        ..PaddingParams::default()
    }));
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: MAX_TOKENS,
            ..TruncationParams::default()
        }))
        .map_err(|e| fail(e.to_string()))?;
    Ok(tokenizer)
}

/// Cosine similarity of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
