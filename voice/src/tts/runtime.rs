//! Loading ONNX Runtime's shared library once per process.
//!
//! ort is built with `load-dynamic`: nothing links against libonnxruntime at
//! build time, and the library (from the PyPI `onnxruntime` wheel, which the
//! install script puts in a venv) is opened here at start-up. A missing library
//! is then a clear error instead of a loader failure before `main`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::VoiceError;

static LOADED: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// Opens `libonnxruntime.so` at `path`. Later calls return the first outcome:
/// a process can only ever hold one ONNX Runtime.
pub fn init_onnxruntime(path: &Path) -> Result<(), VoiceError> {
    let outcome = LOADED.get_or_init(|| {
        if !path.is_file() {
            return Err("file not found".to_string());
        }
        let builder = ort::init_from(path).map_err(|e| e.to_string())?;
        builder.with_name("hauski").commit();
        Ok(path.to_path_buf())
    });
    outcome
        .as_ref()
        .map(|_| ())
        .map_err(|reason| VoiceError::Runtime {
            path: path.to_path_buf(),
            reason: reason.clone(),
        })
}
