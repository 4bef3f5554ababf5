//! `hauski-bench`: HausKI's speed figures, measured on this machine beside
//! the reference implementations, written as JSON under `target/bench/` and
//! rendered into the README's tables. A binary of its own, so the `hauski`
//! that users run ships no bench code.

mod adapters;
mod api;
mod brain;
mod brain_edits;
mod bus;
mod check;
mod embed_engines;
mod nats;
mod procfs;
mod report;
mod satellite;
mod service;
mod skills;
mod spine;
mod voice;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use hauski::engines::{App, AppOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchSuite {
    /// ASR, TTS, LLM and converse latency (target/bench/spine.json).
    Spine,
    /// Embedding, index build, hybrid search and HNSW recall (target/bench/brain.json).
    Brain,
    /// The side API against calling the engines directly (target/bench/api.json).
    Api,
    /// The live voice loop on a private PipeWire (target/bench/voice.json).
    Voice,
    /// The in-process event bus: events a second, publish → receipt (target/bench/bus.json).
    Bus,
    /// The installed daemon: service start → READY=1, idle memory (target/bench/service.json).
    Service,
    /// Timers, reminders and lists: fast path against the LLM tool path (target/bench/skills.json).
    Skills,
    /// A satellite and the main over NATS, speech end → first audio at each sink (target/bench/satellite.json).
    Satellite,
    /// Hold the figures in target/bench to the budgets in policies/limits.yaml; exit 1 naming each one missed.
    Check,
}

/// Measures HausKI's speed figures.
#[derive(Debug, Parser)]
#[command(name = "hauski-bench", version)]
pub struct BenchArgs {
    /// Which figures to measure.
    #[arg(value_enum, default_value = "spine")]
    pub suite: BenchSuite,
    /// Model roots, ':'-separated (as `hauski --models`).
    #[arg(long, env = "HAUSKI_MODELS")]
    pub models: Option<String>,
    /// Directory with models.yml, profiles.yaml and policies/.
    #[arg(long, env = "HAUSKI_CONFIG")]
    pub config: Option<PathBuf>,
    /// Threads for the engines (default: all cores).
    #[arg(long, env = "HAUSKI_THREADS")]
    pub threads: Option<usize>,
    /// Use this LLM (an id from models.yml) instead of the default.
    #[arg(long, env = "HAUSKI_LLM")]
    pub llm: Option<String>,
    /// Brain suite: chunks in the synthetic corpus.
    #[arg(long, default_value_t = 100_000)]
    pub chunks: usize,
    /// Brain suite: embed the corpus again even when target/bench holds its
    /// embeddings from an earlier run (same corpus, same model).
    #[arg(long)]
    pub fresh_embeddings: bool,
    /// Print the figures as JSON on stdout too.
    #[arg(long)]
    pub json: bool,
    /// Where to write the JSON (default target/bench/<suite>.json); for
    /// `check`, the folder the figures are read from (default target/bench).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Runs of `converse` for the latency percentiles.
    #[arg(long, default_value_t = 10)]
    pub runs: usize,
    /// Python with pywhispercpp and piper-tts for the reference figures.
    #[arg(long, env = "HAUSKI_BENCH_PYTHON", default_value = ".venv/bin/python")]
    pub reference_python: PathBuf,
    /// Skip the reference implementations.
    #[arg(long)]
    pub no_reference: bool,
    /// Rewrite the figures table in this README from the new JSON.
    #[arg(long)]
    pub update_readme: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = BenchArgs::parse();
    hauski::init_tracing(0);
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &BenchArgs) -> anyhow::Result<()> {
    // A bench never touches the owner's data (memory, notes): what a suite
    // needs lives in a folder of its own, gone when the run ends.
    let data = tempfile::tempdir()?;
    let app = App::new(&AppOptions {
        config_dir: args.config.clone(),
        model_roots: args.models.clone(),
        threads: args.threads,
        data_dir: Some(data.path().to_path_buf()),
        llm: args.llm.clone(),
    })?;
    match args.suite {
        BenchSuite::Spine => spine::run(&app, args),
        BenchSuite::Brain => brain::run(&app, args),
        BenchSuite::Api => api::run(&app, args),
        BenchSuite::Voice => voice::run(&app, args),
        BenchSuite::Bus => bus::run(args, &app.config.routing),
        BenchSuite::Service => service::run(&app, args),
        BenchSuite::Skills => skills::run(&app, args),
        BenchSuite::Satellite => satellite::run(&app, args),
        BenchSuite::Check => check::run(
            &app.config.limits.budgets,
            args.out
                .as_deref()
                .unwrap_or(std::path::Path::new("target/bench")),
        ),
    }
}

/// The `hauski` binary beside this one, for suites that run it as a user
/// would (`serve`, `index add`).
pub fn hauski_exe() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?.with_file_name("hauski");
    anyhow::ensure!(
        exe.is_file(),
        "{} is missing; build it first (cargo build)",
        exe.display()
    );
    Ok(exe)
}
