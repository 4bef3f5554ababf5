//! BERT on ONNX Runtime: the graph `scripts/export-minilm-onnx.py` writes
//! (inputs `input_ids` and `attention_mask`, output `embedding`, already
//! pooled and unit length).

use std::path::Path;
use std::sync::Mutex;

use ort::session::Session;
use ort::value::Tensor;

use super::Batch;
use crate::BrainError;

pub(super) struct OnnxBert {
    /// ort's `run` needs the session mutably; embeddings are short calls.
    session: Mutex<Session>,
}

impl OnnxBert {
    /// The graph at `path` and its width (from its output's shape).
    pub fn load(path: &Path, threads: usize) -> Result<(Self, usize), BrainError> {
        let fail = |reason: String| BrainError::EmbedLoad {
            path: path.to_path_buf(),
            reason,
        };
        hauski_onnxruntime::ensure().map_err(|e| fail(e.to_string()))?;
        let session = Session::builder()
            .map_err(|e| fail(e.to_string()))?
            .with_intra_threads(threads.max(1))
            .map_err(|e| fail(e.to_string()))?
            // ONNX Runtime's pool threads spin for a while after each call by
            // default; BM25 and the scan need that core the moment a query's
            // embedding is done (spinning: search after edits p50 10.6 ms
            // instead of 7.6–8.2, the rankers' part 5.7 instead of 3.7–3.9).
            .with_intra_op_spinning(false)
            .map_err(|e| fail(e.to_string()))?
            .commit_from_file(path)
            .map_err(|e| fail(e.to_string()))?;
        let width = session
            .outputs()
            .iter()
            .find(|o| o.name() == "embedding")
            .and_then(|o| o.dtype().tensor_shape().and_then(|s| s.last().copied()))
            .and_then(|d| usize::try_from(d).ok())
            .ok_or_else(|| BrainError::EmbedLoad {
                path: path.to_path_buf(),
                reason:
                    "no `embedding` output of a fixed width; export it with scripts/export-minilm-onnx.py"
                        .into(),
            })?;
        Ok((
            Self {
                session: Mutex::new(session),
            },
            width,
        ))
    }

    pub fn forward(&self, batch: &Batch) -> Result<Vec<Vec<f32>>, BrainError> {
        let fail = |e: ort::Error| BrainError::engine("running BERT", e);
        let tensor = |data: &[u32]| {
            let data: Vec<i64> = data.iter().map(|&x| i64::from(x)).collect();
            Tensor::from_array(([batch.rows, batch.cols], data)).map_err(fail)
        };
        let inputs =
            ort::inputs!["input_ids" => tensor(&batch.ids)?, "attention_mask" => tensor(&batch.mask)?];
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = session.run(inputs).map_err(fail)?;
        let (shape, values) = outputs["embedding"].try_extract_tensor::<f32>().map_err(fail)?;
        let width = shape.last().and_then(|&d| usize::try_from(d).ok()).unwrap_or(0);
        if width == 0 {
            return Err(BrainError::engine("running BERT", "an empty embedding"));
        }
        Ok(values.chunks_exact(width).map(<[f32]>::to_vec).collect())
    }
}
