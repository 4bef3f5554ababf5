//! ONNX Runtime's shared library, found and loaded once per process.
//!
//! `ort` is built with `load-dynamic`: nothing links against libonnxruntime
//! at build time, and the library (from the PyPI `onnxruntime` wheel the
//! install script puts in a venv, or an installed copy) is opened at run
//! time. Left to itself, `ort` opens it on first use and panics when it is
//! not on the loader's path; every engine here calls [`ensure`] before it
//! builds a session, so a missing library is an error that names the fix.
//! Piper voices, wake words and the notes embedder share this one crate, so
//! the search order is written once.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Why ONNX Runtime cannot be used in this process.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RuntimeError {
    #[error(
        "ONNX Runtime (libonnxruntime.so) not found; run scripts/install-deps.sh or set HAUSKI_ONNXRUNTIME to the library (looked in: {looked})"
    )]
    NotFound { looked: String },
    #[error(
        "cannot load ONNX Runtime from {path}: {reason}; run scripts/install-deps.sh or set HAUSKI_ONNXRUNTIME to libonnxruntime.so"
    )]
    Load { path: PathBuf, reason: String },
}

/// The environment variable that names the library, before any search.
pub const ENV: &str = "HAUSKI_ONNXRUNTIME";

static LOADED: OnceLock<Result<PathBuf, RuntimeError>> = OnceLock::new();

/// Loads ONNX Runtime from where [`find`] finds it, unless a runtime is
/// loaded already; the library in use.
pub fn ensure() -> Result<&'static Path, RuntimeError> {
    if let Some(outcome) = LOADED.get() {
        return outcome.as_deref().map_err(Clone::clone);
    }
    load(&find()?)
}

/// Opens `libonnxruntime.so` at `path`. Later calls return the first
/// outcome, whatever path they name: a process holds one ONNX Runtime.
pub fn load(path: &Path) -> Result<&'static Path, RuntimeError> {
    let outcome = LOADED.get_or_init(|| {
        let fail = |reason: String| RuntimeError::Load {
            path: path.to_path_buf(),
            reason,
        };
        if !path.is_file() {
            return Err(fail("file not found".into()));
        }
        let builder = ort::init_from(path).map_err(|e| fail(e.to_string()))?;
        builder.with_name("hauski").commit();
        tracing::debug!(path = %path.display(), "ONNX Runtime loaded");
        Ok(path.to_path_buf())
    });
    outcome.as_deref().map_err(Clone::clone)
}

/// Where libonnxruntime.so is: `HAUSKI_ONNXRUNTIME`, then an installed copy
/// (`../lib/hauski` beside the binary), then beside the binary, then the
/// install script's venv from the working directory or a checkout around
/// the binary (`.onnxruntime-dir`, or the venv's site-packages), then the
/// system's library folders.
pub fn find() -> Result<PathBuf, RuntimeError> {
    if let Some(path) = std::env::var_os(ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    let candidates = candidates(exe_dir.as_deref());
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| RuntimeError::NotFound {
            looked: candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Every place [`find`] looks, in order, for a binary in `exe_dir`.
fn candidates(exe_dir: Option<&Path>) -> Vec<PathBuf> {
    const LIBRARY: &str = "libonnxruntime.so";
    let mut candidates = Vec::new();
    let mut bases: Vec<PathBuf> = vec![PathBuf::from(".")];
    if let Some(dir) = exe_dir {
        // An installed hauski (`bin/` beside `lib/hauski/`).
        candidates.push(dir.join("../lib/hauski").join(LIBRARY));
        candidates.push(dir.join(LIBRARY));
        // target/<profile>/[deps/] → the checkout's root.
        bases.extend(dir.ancestors().skip(1).take(3).map(Path::to_path_buf));
    }
    for base in &bases {
        if let Ok(dir) = std::fs::read_to_string(base.join(".onnxruntime-dir")) {
            candidates.push(PathBuf::from(dir.trim()).join(LIBRARY));
        }
        if let Ok(entries) = std::fs::read_dir(base.join(".venv/lib")) {
            for entry in entries.flatten() {
                candidates.push(entry.path().join("site-packages/onnxruntime/capi").join(LIBRARY));
            }
        }
    }
    candidates.push(PathBuf::from("/usr/lib/x86_64-linux-gnu").join(LIBRARY));
    candidates.push(PathBuf::from("/usr/local/lib").join(LIBRARY));
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkout_around_the_binary_is_searched_through_its_record() {
        let root = tempfile::tempdir().expect("temp dir");
        let runtime = root.path().join("wheel/capi");
        std::fs::create_dir_all(&runtime).expect("mkdir");
        std::fs::write(
            root.path().join(".onnxruntime-dir"),
            runtime.display().to_string(),
        )
        .expect("record");
        let exe_dir = root.path().join("target/debug/deps");
        let found = candidates(Some(&exe_dir));
        assert!(found.contains(&runtime.join("libonnxruntime.so")), "{found:?}");
        // An installed copy comes before any checkout.
        assert_eq!(found[0], exe_dir.join("../lib/hauski/libonnxruntime.so"));
    }

    #[test]
    fn a_library_that_is_not_there_is_named_and_stays_the_outcome() {
        // The only test here that loads: the outcome is the process's for good.
        let missing = Path::new("/nonexistent/libonnxruntime.so");
        let error = load(missing).expect_err("nothing to load");
        let text = error.to_string();
        assert!(
            text.contains("/nonexistent/libonnxruntime.so") && text.contains(ENV),
            "{text}"
        );
        let again = ensure().expect_err("the first outcome holds");
        assert_eq!(again.to_string(), text);
    }
}
