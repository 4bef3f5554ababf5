//! HausKI as a library: the assistant core and its front doors, shared by
//! the `hauski` binary (CLI and daemon) and `hauski-bench`.

pub mod api;
pub mod assistant;
pub mod config;
pub mod engines;
pub mod llm_pool;
pub mod nats;
pub mod notes_context;
pub mod pipeline;
pub mod profile_state;
pub mod voice_loop;
pub mod wake_words;
pub mod wyoming;

/// Logs to stderr: warnings by default, more with `verbose`, `RUST_LOG` over both.
pub fn init_tracing(verbose: u8) {
    // llama.cpp warns about model quirks at load time that a user can do
    // nothing about; its errors still show.
    let default = match verbose {
        0 => "warn,llama.cpp=error,llama-cpp-2=error",
        1 => "info,llama.cpp=warn",
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
