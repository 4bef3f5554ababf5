//! BERT on candle-transformers, straight from the safetensors.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};

use super::Batch;
use crate::BrainError;

pub(super) struct CandleBert {
    model: BertModel,
    device: Device,
}

impl CandleBert {
    /// The model in `dir` and its width. Weights stored as F16 are converted to
    /// F32 on load: candle's CPU BERT wants F32, and the model is small (90 MB).
    pub fn load(dir: &Path) -> Result<(Self, usize), BrainError> {
        let fail = |reason: String| BrainError::EmbedLoad {
            path: dir.to_path_buf(),
            reason,
        };
        let config_text =
            std::fs::read_to_string(dir.join("config.json")).map_err(|e| fail(e.to_string()))?;
        let config: Config =
            serde_json::from_str(&config_text).map_err(|e| fail(format!("config.json: {e}")))?;
        let device = Device::Cpu;
        // SAFETY: the file is memory-mapped read-only and not modified while mapped.
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(&[dir.join("model.safetensors")], DType::F32, &device)
        }
        .map_err(|e| fail(e.to_string()))?;
        let model = BertModel::load(vb, &config).map_err(|e| fail(e.to_string()))?;
        Ok((Self { model, device }, config.hidden_size))
    }

    pub fn forward(&self, batch: &Batch) -> Result<Vec<Vec<f32>>, BrainError> {
        let tensor = |data: Vec<u32>| {
            Tensor::from_vec(data, (batch.rows, batch.cols), &self.device)
                .map_err(|e| BrainError::engine("batching", e))
        };
        let ids = tensor(batch.ids.clone())?;
        // Single sentences: every token is of type 0.
        let types = tensor(vec![0; batch.ids.len()])?;
        let mask = tensor(batch.mask.clone())?;
        let hidden = self
            .model
            .forward(&ids, &types, Some(&mask))
            .map_err(|e| BrainError::engine("running BERT", e))?;
        // Mean over real tokens only: padding must not pull the average.
        (|| {
            let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
            let counts = mask.sum(1)?;
            let mean = summed.broadcast_div(&counts)?;
            let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
            mean.broadcast_div(&norm)?.to_vec2::<f32>()
        })()
        .map_err(|e: candle_core::Error| BrainError::engine("pooling", e))
    }
}
