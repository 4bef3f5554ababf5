//! openWakeWord's frozen feature models on ONNX Runtime: a mel spectrogram
//! (torchlibrosa, as ONNX) and Google's speech embedding (a small CNN that
//! turns 76 mel frames, 0.775 s, into 96 numbers). Wake-word classifiers are
//! trained on these embeddings (scripts/train-wake.py), so the way they are
//! made here is the contract with training: 80 ms chunks at int16 scale, each
//! with the 480 samples before it, one mel call per chunk (the model clamps to
//! 80 dB below the loudest frame of the call, so other call sizes give other
//! numbers), `x / 10 + 2`, one embedding per chunk.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::session::Session;
use ort::value::Tensor;

use crate::VoiceError;

/// Samples per chunk (80 ms at 16 kHz): one embedding per chunk.
pub const CHUNK: usize = 1280;
/// Samples of the previous chunk the mel model needs to make 8 frames.
pub const CONTEXT: usize = 480;
pub const MEL_BANDS: usize = 32;
pub const MELS_PER_CHUNK: usize = 8;
/// Mel frames one embedding reads.
pub const EMBEDDING_WINDOW: usize = 76;
pub const EMBEDDING_SIZE: usize = 96;

pub type MelFrame = [f32; MEL_BANDS];
pub type Embedding = [f32; EMBEDDING_SIZE];

/// Where the two feature models are (`scripts/fetch-wake-features.sh` puts
/// them in `.models/wakeword/`).
#[derive(Debug, Clone)]
pub struct WakeFeatureFiles {
    pub melspectrogram: PathBuf,
    pub embedding: PathBuf,
}

pub(super) struct FeatureModels {
    mel: Mutex<Session>,
    embedding: Mutex<Session>,
}

pub(super) fn session(path: &Path) -> Result<Session, VoiceError> {
    if !path.is_file() {
        return Err(VoiceError::WakeModelMissing(path.to_path_buf()));
    }
    let fail = |e: String| VoiceError::Wake(format!("cannot load {}: {e}", path.display()));
    hauski_onnxruntime::ensure()?;
    Session::builder()
        .map_err(|e| fail(e.to_string()))?
        .with_intra_threads(1)
        .map_err(|e| fail(e.to_string()))?
        .commit_from_file(path)
        .map_err(|e| fail(e.to_string()))
}

/// Runs a one-input, one-output model on `data` shaped `shape`; its output, flat.
pub(super) fn infer<const N: usize>(
    session: &Mutex<Session>,
    what: &str,
    input: &str,
    shape: [usize; N],
    data: Vec<f32>,
) -> Result<Vec<f32>, VoiceError> {
    let fail = |e: ort::Error| VoiceError::Wake(format!("{what} failed: {e}"));
    let tensor = Tensor::from_array((shape, data)).map_err(fail)?;
    let mut session = session.lock().unwrap_or_else(|p| p.into_inner());
    let outputs = session.run(ort::inputs![input => tensor]).map_err(fail)?;
    let (_, values) = outputs[0].try_extract_tensor::<f32>().map_err(fail)?;
    Ok(values.to_vec())
}

impl FeatureModels {
    pub fn load(files: &WakeFeatureFiles) -> Result<Self, VoiceError> {
        Ok(Self {
            mel: Mutex::new(session(&files.melspectrogram)?),
            embedding: Mutex::new(session(&files.embedding)?),
        })
    }

    /// The 8 mel frames of one chunk; `input` is the chunk with the
    /// [`CONTEXT`] samples before it, at int16 scale.
    pub fn mel_frames(&self, input: &[f32]) -> Result<[MelFrame; MELS_PER_CHUNK], VoiceError> {
        debug_assert_eq!(input.len(), CHUNK + CONTEXT);
        let values = infer(
            &self.mel,
            "mel spectrogram",
            "input",
            [1, input.len()],
            input.to_vec(),
        )?;
        if values.len() != MELS_PER_CHUNK * MEL_BANDS {
            return Err(VoiceError::Wake(format!(
                "the mel model made {} values for a chunk, expected {}",
                values.len(),
                MELS_PER_CHUNK * MEL_BANDS
            )));
        }
        let mut frames = [[0.0; MEL_BANDS]; MELS_PER_CHUNK];
        for (frame, row) in frames.iter_mut().zip(values.chunks_exact(MEL_BANDS)) {
            for (out, value) in frame.iter_mut().zip(row) {
                *out = value / 10.0 + 2.0;
            }
        }
        Ok(frames)
    }

    /// One embedding per window of [`EMBEDDING_WINDOW`] mel frames, in one call.
    pub fn embed(&self, windows: &[&[MelFrame]]) -> Result<Vec<Embedding>, VoiceError> {
        let mut input: Vec<f32> = Vec::with_capacity(windows.len() * EMBEDDING_WINDOW * MEL_BANDS);
        for window in windows {
            debug_assert_eq!(window.len(), EMBEDDING_WINDOW);
            input.extend(window.iter().flatten());
        }
        let shape = [windows.len(), EMBEDDING_WINDOW, MEL_BANDS, 1];
        let values = infer(&self.embedding, "speech embedding", "input_1", shape, input)?;
        if values.len() != windows.len() * EMBEDDING_SIZE {
            return Err(VoiceError::Wake(format!(
                "the embedding model made {} values for {} windows",
                values.len(),
                windows.len()
            )));
        }
        Ok(values
            .chunks_exact(EMBEDDING_SIZE)
            .map(|row| {
                let mut embedding = [0.0; EMBEDDING_SIZE];
                embedding.copy_from_slice(row);
                embedding
            })
            .collect())
    }
}
