//! Sentence embeddings with candle-transformers' BERT: all-MiniLM-L6-v2 style
//! models (mean pooling over the attention mask, L2-normalised), batched.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::BrainError;

/// Longest input in tokens; sentence-transformers trained MiniLM at 256.
const MAX_TOKENS: usize = 256;

pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dimensions: usize,
}

impl Embedder {
    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from `dir`.
    /// Weights stored as F16 are converted to F32 on load: candle's CPU BERT
    /// wants F32, and the model is small enough (90 MB) for it.
    pub fn load(dir: &Path) -> Result<Self, BrainError> {
        let _span = tracing::info_span!("embed_load", dir = %dir.display()).entered();
        let fail = |reason: String| BrainError::EmbedLoad {
            path: dir.to_path_buf(),
            reason,
        };
        for file in ["config.json", "tokenizer.json", "model.safetensors"] {
            if !dir.join(file).is_file() {
                return Err(BrainError::ModelMissing {
                    path: dir.join(file),
                    hint: "minilm-l6-v2".into(),
                });
            }
        }
        let config_text =
            std::fs::read_to_string(dir.join("config.json")).map_err(|e| fail(e.to_string()))?;
        let config: Config =
            serde_json::from_str(&config_text).map_err(|e| fail(format!("config.json: {e}")))?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| fail(format!("tokenizer.json: {e}")))?;
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
        let device = Device::Cpu;
        // SAFETY: the file is memory-mapped read-only and not modified while mapped.
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(&[dir.join("model.safetensors")], DType::F32, &device)
        }
        .map_err(|e| fail(e.to_string()))?;
        let model = BertModel::load(vb, &config).map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            model,
            tokenizer,
            device,
            dimensions: config.hidden_size,
        })
    }

    pub fn dimensions(&self) -> usize {
        self.dimensions
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
        let _span = tracing::debug_span!("embed", batch = texts.len()).entered();
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| BrainError::engine("tokenizing", e))?;
        let rows = encodings.len();
        let cols = encodings.first().map_or(0, |e| e.get_ids().len());
        let flat = |f: &dyn Fn(&tokenizers::Encoding) -> Vec<u32>| -> Vec<u32> {
            encodings.iter().flat_map(f).collect()
        };
        let ids = flat(&|e| e.get_ids().to_vec());
        let types = flat(&|e| e.get_type_ids().to_vec());
        let mask = flat(&|e| e.get_attention_mask().to_vec());
        let tensor = |data: Vec<u32>| {
            Tensor::from_vec(data, (rows, cols), &self.device).map_err(|e| BrainError::engine("batching", e))
        };
        let (ids, types, mask) = (tensor(ids)?, tensor(types)?, tensor(mask)?);

        let hidden = self
            .model
            .forward(&ids, &types, Some(&mask))
            .map_err(|e| BrainError::engine("running BERT", e))?;
        // Mean over real tokens only: padding must not pull the average.
        let pooled = (|| {
            let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
            let counts = mask.sum(1)?;
            let mean = summed.broadcast_div(&counts)?;
            let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
            mean.broadcast_div(&norm)?.to_vec2::<f32>()
        })()
        .map_err(|e: candle_core::Error| BrainError::engine("pooling", e))?;
        Ok(pooled)
    }
}

/// Cosine similarity of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
