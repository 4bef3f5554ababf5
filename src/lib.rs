//! HausKI as a library: the assistant core and its front doors, shared by
//! the `hauski` binary (CLI and daemon) and `hauski-bench`.

pub mod api;
pub mod assistant;
pub mod config;
pub mod download;
pub mod engines;
pub mod gpu_guard;
pub mod install;
pub mod llm_pool;
pub mod nats;
pub mod notes_context;
pub mod pipeline;
pub mod procfs;
pub mod profile_state;
pub mod recordings;
pub mod satellite;
pub mod service;
pub mod stats;
pub mod top;
pub mod voice_loop;
pub mod wake_watch;
pub mod wake_words;
pub mod wyoming;

/// Logs to stderr: warnings by default, more with `verbose`, `RUST_LOG` over both.
pub fn init_tracing(verbose: u8) {
    // llama.cpp warns about model quirks at load time that a user can do
    // nothing about; its errors still show.
    let default = match verbose {
        0 => "warn,llama-cpp-2=error",
        1 => "info,llama-cpp-2=warn",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // HAUSKI_LOG_SPANS=1: one line per finished stage with its time
    // (`asr`, `llm`, `tts`, `turn` …), for finding where latency goes.
    let span_events = if std::env::var_os("HAUSKI_LOG_SPANS").is_some_and(|v| v == "1") {
        tracing_subscriber::fmt::format::FmtSpan::CLOSE
    } else {
        tracing_subscriber::fmt::format::FmtSpan::NONE
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(span_events)
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal, not in journald or a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// One name, one meaning: no two public types in the workspace share a
    /// name (read from the sources, so a new crate or module is covered).
    #[test]
    fn no_type_name_means_two_things() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["src", "bench", "audio/src", "voice/src", "brain/src"] {
            rust_files(&root.join(dir), &mut files);
        }
        assert!(files.len() > 50, "only {} sources found", files.len());
        let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            for line in text.lines() {
                let line = line.trim_start();
                let rest = line
                    .strip_prefix("pub struct ")
                    .or_else(|| line.strip_prefix("pub enum "))
                    .or_else(|| line.strip_prefix("pub(crate) struct "))
                    .or_else(|| line.strip_prefix("pub(super) struct "));
                if let Some(rest) = rest {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let place = file.strip_prefix(root).unwrap_or(file).display().to_string();
                    seen.entry(name).or_default().push(place);
                }
            }
        }
        let twice: Vec<_> = seen.iter().filter(|(_, places)| places.len() > 1).collect();
        assert!(twice.is_empty(), "type names used twice: {twice:?}");
    }
}
