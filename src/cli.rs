//! The command line: names and flags here are a contract with users and scripts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "hauski",
    version,
    about = "HausKI: a voice-first, offline home audio assistant"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Model roots, ':'-separated; `models pull` writes into the first.
    #[arg(long, global = true, env = "HAUSKI_MODELS")]
    pub models: Option<String>,
    /// Directory with models.yml, profiles.yaml and policies/ (built-in defaults otherwise).
    #[arg(long, global = true, env = "HAUSKI_CONFIG")]
    pub config: Option<PathBuf>,
    /// Threads for the engines (default: all cores).
    #[arg(long, global = true, env = "HAUSKI_THREADS")]
    pub threads: Option<usize>,
    /// Where HausKI keeps its data (memory database); default ~/.local/share/hauski.
    #[arg(long, global = true, env = "HAUSKI_DATA")]
    pub data: Option<PathBuf>,
    /// Use this LLM (an id from models.yml) instead of the default.
    #[arg(long, global = true, env = "HAUSKI_LLM")]
    pub llm: Option<String>,
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Transcribe a recording (WAV, FLAC, MP3, M4A, Ogg, WebM).
    Transcribe {
        file: PathBuf,
        /// Print text, segments and timings as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Speak TEXT with the configured voice into a WAV file.
    Say {
        text: String,
        #[arg(short, long)]
        output: PathBuf,
        /// Speaking rate: 1.0 is the voice's pace.
        #[arg(long, default_value_t = 1.0)]
        rate: f32,
    },
    /// Ask the LLM; the answer streams to stdout as it is generated.
    Ask {
        text: String,
        #[command(flatten)]
        generation: GenerationArgs,
        /// Print the answer and generation figures as JSON at the end.
        #[arg(long)]
        json: bool,
    },
    /// The whole voice path on a recording: VAD → ASR → LLM → TTS → WAV.
    Converse {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        output: PathBuf,
        #[command(flatten)]
        generation: GenerationArgs,
        #[arg(long)]
        json: bool,
    },
    /// List, verify and download models.
    Models {
        #[command(subcommand)]
        action: ModelsAction,
    },
    /// Index Markdown notes (e.g. an Obsidian vault) for search and answers.
    Index {
        #[command(subcommand)]
        action: IndexAction,
    },
    /// Search the indexed notes by meaning and by words.
    Search {
        query: String,
        /// How many results.
        #[arg(short, default_value_t = 5)]
        k: usize,
        /// Only notes whose path starts with this.
        #[arg(long)]
        path_prefix: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// What HausKI remembers: list, add, pin, forget.
    Memory {
        #[command(subcommand)]
        action: MemoryAction,
    },
    /// Show the audio profiles of profiles.yaml.
    Profile {
        #[command(subcommand)]
        action: ProfileAction,
    },
    /// Watch a running HausKI: rooms and satellites, what is being said, each
    /// stage's latency against its budget, alarms, queues, CPU and memory.
    Top {
        /// Print one view of /metrics as text and exit (for scripts), instead
        /// of the live terminal view.
        #[arg(long)]
        once: bool,
        #[command(flatten)]
        daemon: DaemonArgs,
    },
    /// The skills' audit log (loads, refusals, failures): check its chain and signatures.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// The messenger adapters (Telegram, Matrix, Signal): list, enable, disable.
    Adapters {
        #[command(subcommand)]
        action: AdaptersAction,
    },
    /// The adapters' credentials, kept encrypted (age) in the vault.
    Secrets {
        #[command(subcommand)]
        action: SecretsAction,
    },
    /// Kept utterance recordings (encrypted): list, play, purge.
    Recordings {
        #[command(subcommand)]
        action: RecordingsAction,
    },
    /// The audio devices HausKI can play to.
    Audio {
        #[command(subcommand)]
        action: AudioAction,
    },
    /// Wake words: test them on a recording (train one with scripts/train-wake.py).
    Wake {
        #[command(subcommand)]
        action: WakeAction,
    },
    /// Run the daemon: the side API (OpenAI-compatible), Wyoming, the notes watcher.
    Serve(ServeArgs),
    /// Install this build as an appliance: binary, libraries, wake-word models,
    /// default config and systemd user units (enabled).
    Install(InstallArgs),
    /// Remove what `hauski install` put in place; config and data stay unless --purge.
    Uninstall {
        #[command(flatten)]
        target: InstallTarget,
        /// Also delete ~/.config/hauski and the data dir (memories, notes index, models).
        #[arg(long)]
        purge: bool,
    },
    /// The owner's configuration: write the defaults, or check a config dir.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

/// Where an install goes.
#[derive(Debug, Args, Clone)]
pub struct InstallTarget {
    /// For the current user, under ~/.local (the default).
    #[arg(long, conflicts_with = "system")]
    pub user: bool,
    /// For every user of this machine, under /usr/local (needs root).
    #[arg(long)]
    pub system: bool,
    /// Install under DIR instead (bin/, lib/hauski/, share/systemd/user/).
    #[arg(long, value_name = "DIR")]
    pub prefix: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    #[command(flatten)]
    pub target: InstallTarget,
    /// Lay the files out only: no config init, no `systemctl enable`.
    #[arg(long)]
    pub no_enable: bool,
    /// Packaging: write the files under DIR as if it were / (implies --no-enable).
    #[arg(long, value_name = "DIR")]
    pub destdir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Write every config file, defaults commented out, into the config dir
    /// (default ~/.config/hauski); files already there are kept.
    Init {
        /// Where to write (default: --config, else ~/.config/hauski).
        dir: Option<PathBuf>,
    },
    /// Read the config dir as HausKI would and name every bad key with its file and line.
    Check {
        /// The dir to check (default: the one HausKI would read).
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address of the HTTP API; anything but loopback needs a token. Port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8088")]
    pub listen: std::net::SocketAddr,
    /// Bearer token every API request (but /healthz) must carry.
    #[arg(long, env = "HAUSKI_API_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Also serve Home Assistant's Wyoming protocol here (e.g. 127.0.0.1:10300).
    #[arg(long)]
    pub wyoming: Option<std::net::SocketAddr>,
    /// PipeWire node to listen on (default: the system's default source).
    #[arg(long)]
    pub source: Option<String>,
    /// Listen to what a sink plays (its monitor), e.g. a null sink used as a virtual microphone.
    #[arg(long)]
    pub source_monitor: bool,
    /// Serve the API and Wyoming only: no microphone, no speaker.
    #[arg(long)]
    pub no_voice: bool,
    /// NATS server for the event bus (nats://HOST:PORT); overrides bus.yaml's nats_url.
    #[arg(long, env = "HAUSKI_BUS")]
    pub bus: Option<String>,
    /// Run as a satellite in another room: capture, wake word and VAD only;
    /// questions go over --bus to the main HausKI, which answers here.
    #[arg(long, requires = "room")]
    pub satellite: bool,
    /// The satellite's room (letters, digits, '-', '_'), e.g. kitchen.
    #[arg(long, requires = "satellite")]
    pub room: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct GenerationArgs {
    /// Most tokens in the answer (default from policies/limits.yaml).
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// 0 for greedy decoding.
    #[arg(long)]
    pub temperature: Option<f32>,
    #[arg(long)]
    pub seed: Option<u32>,
    /// Stop before this string; repeatable. Replaces the default stops.
    #[arg(long)]
    pub stop: Vec<String>,
    /// The system prompt.
    #[arg(long)]
    pub system: Option<String>,
}

impl GlobalArgs {
    /// What the engines need to know of these flags.
    pub fn app_options(&self) -> hauski::engines::AppOptions {
        hauski::engines::AppOptions {
            config_dir: self.config.clone(),
            model_roots: self.models.clone(),
            threads: self.threads,
            data_dir: self.data.clone(),
            llm: self.llm.clone(),
        }
    }
}

impl GenerationArgs {
    /// The settings these flags ask for; unset ones take the limits' defaults.
    pub fn requested(&self) -> hauski::assistant::generation::Requested {
        hauski::assistant::generation::Requested {
            max_tokens: self.max_tokens,
            temperature: self.temperature,
            seed: self.seed,
            stop: (!self.stop.is_empty()).then(|| self.stop.clone()),
            ..Default::default()
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ModelsAction {
    /// Show every model, where it is and whether it is present.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Check the sha256 of every present model (or of the named ones).
    Verify { ids: Vec<String> },
    /// Download a model from its URL, with resume and sha256 check.
    Pull { id: String },
}

#[derive(Debug, Subcommand)]
pub enum IndexAction {
    /// Index (or bring up to date) the Markdown files under DIR.
    Add {
        dir: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Keep the index up to date: re-index notes as they change, at low priority.
    Watch {
        /// Folders to watch (default: every indexed folder).
        dirs: Vec<PathBuf>,
    },
    /// Bring every indexed folder up to date once (the batch timer runs this).
    Refresh {
        #[arg(long)]
        json: bool,
    },
    /// Indexed folders, notes and chunks.
    Status {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemoryAction {
    /// Everything remembered that has not expired.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remember TEXT (as "remember that …" does by voice).
    Add {
        text: String,
        /// short, working or long (lifetimes in policies/memory.yaml).
        #[arg(long, default_value = "working")]
        layer: String,
    },
    /// Keep an entry forever.
    Pin { id: i64 },
    /// Delete an entry.
    Forget { id: i64 },
    /// Delete expired entries now (also done at every start).
    Purge,
}

#[derive(Debug, Subcommand)]
pub enum ProfileAction {
    /// Every profile, the active one marked with '*'.
    List {
        #[command(flatten)]
        daemon: DaemonArgs,
    },
    /// One profile in full (default: the active one).
    Show {
        name: Option<String>,
        #[command(flatten)]
        daemon: DaemonArgs,
    },
    /// Make NAME (or a synonym, e.g. "kitchen") the active profile: the running
    /// daemon switches at once; without one, the next start uses it.
    Set {
        name: String,
        #[command(flatten)]
        daemon: DaemonArgs,
    },
}

/// How the CLI reaches a running `hauski serve`.
#[derive(Debug, Args, Clone)]
pub struct DaemonArgs {
    /// The daemon's API.
    #[arg(long, env = "HAUSKI_API", default_value = "http://127.0.0.1:8088")]
    pub api: String,
    #[arg(long, env = "HAUSKI_API_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AudioAction {
    /// List PipeWire's sinks (the names a profile's `sink` may use), the
    /// default one, and which profiles play where.
    Sinks {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum WakeAction {
    /// Report every wake word detected in a recording, with timestamps.
    Test {
        file: PathBuf,
        /// Test this wake-word classifier (.onnx, from scripts/train-wake.py)
        /// instead of the wake words of models.yml.
        #[arg(long)]
        wake_file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check that no line of audit.log was edited, removed, reordered or
    /// forged: every hash follows the line before and every signature is
    /// the audit key's (audit.pub). Exits 1 naming the first broken line.
    Verify {
        /// The log; audit.log in the data dir by default.
        #[arg(long)]
        log: Option<std::path::PathBuf>,
    },
    /// The most recent entries, oldest first, one line each.
    Tail {
        /// How many.
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: usize,
        /// The log; audit.log in the data dir by default.
        #[arg(long)]
        log: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdaptersAction {
    /// Every adapter HausKI has: on or off, its messenger, its settings, and
    /// which of its credentials are set (never their values).
    List,
    /// Turn an adapter on (the daemon polls it from its next start).
    Enable {
        name: String,
        /// A setting, `KEY=VALUE` (`homeserver=https://matrix.example.org`); repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        settings: Vec<String>,
    },
    /// Turn an adapter off; its settings and credentials are kept.
    Disable { name: String },
}

#[derive(Debug, Subcommand)]
pub enum RecordingsAction {
    /// Every kept recording: its name, when it was said, its length.
    List,
    /// Decrypt one and play it (pw-play), or write it to a WAV file.
    Play {
        name: String,
        /// Write the decrypted WAV here instead of playing it.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
    /// Remove the recordings past their ttl (policies/memory.yaml), or all.
    Purge {
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretsAction {
    /// Store ADAPTER's secret KEY, read from stdin (never from the command
    /// line, where other users and the shell history would see it).
    Set { adapter: String, key: String },
}
