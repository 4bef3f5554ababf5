//! Configuration files: `models.yml`, `profiles.yaml`, `bus.yaml` and
//! `policies/*.yaml`.
//!
//! Each file is looked up in the config directory (`--config`, `HAUSKI_CONFIG`,
//! the current directory when it holds a `models.yml`, else the user config
//! dir, `~/.config/hauski`). The owner's file holds only what it changes: it is
//! laid over the copy embedded in the binary (rules in [`layered`]), so HausKI
//! runs with sane defaults and no setup, and picks up new defaults on upgrade.
//! A file that is present but wrong is an error naming the file, line and key,
//! never a silent default.

pub mod init;
mod layered;
mod lines;
mod messages;
mod models;
pub mod policies;
mod profiles;

use std::path::{Path, PathBuf};

pub use layered::Problem;
pub use messages::{AdapterRules, MessagesPolicy, QuietHours, QuietThen};
pub use models::{Checksum, ModelEntry, ModelKind, ModelRoots, ModelsFile, shipped_root, user_data_root};
pub use policies::{Limits, MemoryFile, Routing};
pub use profiles::{Profile, ProfilesFile};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid: {reason}; fix the file or delete it to use the built-in default")]
    Invalid { path: String, reason: String },
    #[error("{}{}; fix it (`hauski config check` lists every problem) or delete the file to use the built-in default", .0[0], more(.0.len()))]
    Problems(Vec<Problem>),
}

fn more(count: usize) -> String {
    match count {
        0 | 1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    }
}

/// Every config file: its name under the config dir and its built-in text.
pub const FILES: [(&str, &str); 8] = [
    ("models.yml", include_str!("../../models.yml")),
    ("profiles.yaml", include_str!("../../profiles.yaml")),
    ("bus.yaml", include_str!("../../bus.yaml")),
    ("policies/limits.yaml", include_str!("../../policies/limits.yaml")),
    (
        "policies/routing.yaml",
        include_str!("../../policies/routing.yaml"),
    ),
    ("policies/memory.yaml", include_str!("../../policies/memory.yaml")),
    ("policies/skills.yaml", include_str!("../../policies/skills.yaml")),
    (
        "policies/messages.yaml",
        include_str!("../../policies/messages.yaml"),
    ),
];

/// Everything read from the config directory.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the files came from; `None` means all built-in defaults.
    pub dir: Option<PathBuf>,
    pub models: ModelsFile,
    pub profiles: ProfilesFile,
    pub limits: Limits,
    pub routing: Routing,
    pub memory: MemoryFile,
    pub bus: BusFile,
    /// Timers, reminders and lists: time words, time zone, alarms.
    pub skills: hauski_skills::SkillsPolicy,
    /// Which messengers' messages are read aloud, where and when.
    pub messages: MessagesPolicy,
    /// Parsed from `memory`, checked at load.
    pub memory_policy: hauski_brain::memory::MemoryPolicy,
}

impl Config {
    /// For messages: where a config file named `name` was read from.
    pub fn source_of(&self, name: &str) -> String {
        match &self.dir {
            Some(d) if d.join(name).is_file() => {
                format!("{} (over the built-in one)", d.join(name).display())
            }
            _ => format!("built-in {name}"),
        }
    }

    /// The config in `dir` (or the default dir) over the built-in defaults;
    /// every problem in it is an error.
    pub fn load(dir: Option<&Path>) -> Result<Self, ConfigError> {
        let dir = dir.map(Path::to_path_buf).or_else(default_dir);
        let mut problems = Vec::new();
        let config = Self::read(dir, &mut problems)?;
        match config {
            Some(config) if problems.is_empty() => Ok(config),
            _ => Err(ConfigError::Problems(problems)),
        }
    }

    /// Every problem in the config of `dir` (or the default dir); only an
    /// unreadable file is an error.
    pub fn check(dir: Option<&Path>) -> Result<Vec<Problem>, ConfigError> {
        let dir = dir.map(Path::to_path_buf).or_else(default_dir);
        let mut problems = Vec::new();
        Self::read(dir, &mut problems)?;
        Ok(problems)
    }

    /// The config where every file read, with each file's problems added to `problems`.
    fn read(dir: Option<PathBuf>, problems: &mut Vec<Problem>) -> Result<Option<Self>, ConfigError> {
        let d = dir.as_deref();
        let models: Option<ModelsFile> = layered_file(d, "models.yml", problems, keep_roots_only_from_owner)?
            .and_then(|m: ModelsFile| checked(m, d, "models.yml", ModelsFile::validate, problems));
        let profiles: Option<ProfilesFile> = layered_file(d, "profiles.yaml", problems, |_, _| {})?
            .and_then(|p: ProfilesFile| checked(p, d, "profiles.yaml", ProfilesFile::validate, problems));
        let memory: Option<MemoryFile> = layered_file(d, "policies/memory.yaml", problems, |_, _| {})?;
        let memory_policy = memory.as_ref().and_then(|m| {
            m.policy()
                .map_err(|reason| problems.push(whole_file(d, "policies/memory.yaml", reason)))
                .ok()
        });
        let limits = layered_file(d, "policies/limits.yaml", problems, |_, _| {})?;
        let routing = layered_file(d, "policies/routing.yaml", problems, |_, _| {})?;
        let bus = layered_file(d, "bus.yaml", problems, |_, _| {})?;
        let skills = layered_file(d, "policies/skills.yaml", problems, |_, _| {})?.and_then(
            |s: hauski_skills::SkillsPolicy| {
                checked(
                    s,
                    d,
                    "policies/skills.yaml",
                    hauski_skills::SkillsPolicy::validate,
                    problems,
                )
            },
        );
        let messages =
            layered_file(d, "policies/messages.yaml", problems, |_, _| {})?.and_then(|m: MessagesPolicy| {
                checked(m, d, "policies/messages.yaml", MessagesPolicy::validate, problems)
            });
        Ok((|| {
            Some(Self {
                messages: messages?,
                models: models?,
                profiles: profiles?,
                memory: memory?,
                memory_policy: memory_policy?,
                limits: limits?,
                routing: routing?,
                bus: bus?,
                skills: skills?,
                dir,
            })
        })())
    }
}

/// The built-in models.yml names the checkout's model roots, relative to the
/// checkout: they mean nothing next to an owner's file that does not name
/// its own.
fn keep_roots_only_from_owner(default: &mut serde_yaml::Value, owner: Option<&serde_yaml::Value>) {
    let owner_names_roots = owner.is_some_and(|o| o.get("model_roots").is_some());
    if !owner_names_roots && let serde_yaml::Value::Mapping(map) = default {
        map.remove("model_roots");
    }
}

/// Reads `name` from `dir` over its built-in default; `None` (and the
/// reasons in `problems`) when it is wrong.
fn layered_file<T: serde::de::DeserializeOwned>(
    dir: Option<&Path>,
    name: &str,
    problems: &mut Vec<Problem>,
    prepare: impl FnOnce(&mut serde_yaml::Value, Option<&serde_yaml::Value>),
) -> Result<Option<T>, ConfigError> {
    let embedded = FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
        .unwrap_or_default();
    let path = dir.map(|d| d.join(name)).filter(|p| p.is_file());
    let text = match &path {
        Some(p) => Some(std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
            path: p.clone(),
            source,
        })?),
        None => None,
    };
    let owner = path
        .as_ref()
        .zip(text.as_deref())
        .map(|(p, text)| layered::OwnerFile {
            shown: p.display().to_string(),
            text,
        });
    match layered::read_layered(name, embedded, owner, prepare) {
        Ok(value) => Ok(Some(value)),
        Err(found) => {
            problems.extend(found);
            Ok(None)
        }
    }
}

/// `value` when `validate` accepts it, else `None` and the reason in `problems`.
fn checked<T>(
    value: T,
    dir: Option<&Path>,
    name: &str,
    validate: impl Fn(&T) -> Result<(), String>,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    match validate(&value) {
        Ok(()) => Some(value),
        Err(reason) => {
            problems.push(whole_file(dir, name, reason));
            None
        }
    }
}

fn whole_file(dir: Option<&Path>, name: &str, message: String) -> Problem {
    let file = dir
        .map(|d| d.join(name))
        .filter(|p| p.is_file())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| format!("built-in {name}"));
    Problem {
        file,
        line: None,
        key: String::new(),
        message,
    }
}

/// `bus.yaml`: where the event bus reaches beyond the daemon.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusFile {
    /// `nats://host:port` of a NATS server; `None` keeps events in-process.
    #[serde(default)]
    pub nats_url: Option<String>,
}

/// Where HausKI keeps its data (memory, notes index, pulled models) unless
/// told otherwise: `~/.local/share/hauski`.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from(".local/share"))
        .join("hauski")
}

fn default_dir() -> Option<PathBuf> {
    if Path::new("models.yml").is_file() {
        return Some(PathBuf::from("."));
    }
    init::user_dir().filter(|d| d.is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_parse() {
        let empty = tempfile::tempdir().expect("tempdir");
        let config = Config::load(Some(empty.path())).expect("embedded defaults are valid");
        assert!(config.models.find("whisper-tiny-en").is_some());
        assert_eq!(config.profiles.active, "wohnzimmer");
        assert_eq!(config.limits.speech.vad_hangover_ms, 600);
    }

    #[test]
    fn malformed_yaml_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("models.yml"), "models: [ {id: x, kind: asr").expect("write");
        let err = Config::load(Some(dir.path())).expect_err("must fail");
        assert!(err.to_string().contains("models.yml"), "{err}");
    }
}
