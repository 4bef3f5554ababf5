//! Configuration files: `models.yml`, `profiles.yaml`, `bus.yaml` and
//! `policies/*.yaml`.
//!
//! Each file is looked up in the config directory (`--config`, `HAUSKI_CONFIG`,
//! the current directory when it holds a `models.yml`, else the user config
//! dir); a file that is absent falls back to the copy embedded in the binary,
//! so HausKI runs with sane defaults and no setup. A file that is present but
//! malformed is an error naming the file and the problem, never a silent default.

mod models;
pub mod policies;
mod profiles;

use std::path::{Path, PathBuf};

pub use models::{ModelEntry, ModelKind, ModelRoots, ModelsFile};
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
}

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
    /// Parsed from `memory`, checked at load.
    pub memory_policy: hauski_brain::memory::MemoryPolicy,
}

impl Config {
    /// For messages: where a config file named `name` was read from.
    pub fn source_of(&self, name: &str) -> String {
        match &self.dir {
            Some(d) if d.join(name).is_file() => d.join(name).display().to_string(),
            _ => format!("built-in {name}"),
        }
    }

    pub fn load(dir: Option<&Path>) -> Result<Self, ConfigError> {
        let dir = dir.map(Path::to_path_buf).or_else(default_dir);
        let models: ModelsFile = load_yaml(dir.as_deref(), "models.yml", include_str!("../../models.yml"))?;
        models.validate().map_err(|reason| ConfigError::Invalid {
            path: "models.yml".into(),
            reason,
        })?;
        let profiles: ProfilesFile = load_yaml(
            dir.as_deref(),
            "profiles.yaml",
            include_str!("../../profiles.yaml"),
        )?;
        profiles.validate().map_err(|reason| ConfigError::Invalid {
            path: "profiles.yaml".into(),
            reason,
        })?;
        let memory: MemoryFile = load_yaml(
            dir.as_deref(),
            "policies/memory.yaml",
            include_str!("../../policies/memory.yaml"),
        )?;
        let memory_policy = memory.policy().map_err(|reason| ConfigError::Invalid {
            path: "policies/memory.yaml".into(),
            reason,
        })?;
        Ok(Self {
            models,
            profiles,
            memory,
            memory_policy,
            limits: load_yaml(
                dir.as_deref(),
                "policies/limits.yaml",
                include_str!("../../policies/limits.yaml"),
            )?,
            routing: load_yaml(
                dir.as_deref(),
                "policies/routing.yaml",
                include_str!("../../policies/routing.yaml"),
            )?,
            bus: load_yaml(dir.as_deref(), "bus.yaml", include_str!("../../bus.yaml"))?,
            dir,
        })
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

fn default_dir() -> Option<PathBuf> {
    if Path::new("models.yml").is_file() {
        return Some(PathBuf::from("."));
    }
    dirs::config_dir()
        .map(|d| d.join("hauski"))
        .filter(|d| d.is_dir())
}

/// Parses `name` from `dir`, or the embedded default when the file is absent.
fn load_yaml<T: serde::de::DeserializeOwned>(
    dir: Option<&Path>,
    name: &str,
    embedded: &str,
) -> Result<T, ConfigError> {
    let path = dir.map(|d| d.join(name)).filter(|p| p.is_file());
    let (text, shown) = match &path {
        Some(p) => (
            std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                path: p.clone(),
                source,
            })?,
            p.display().to_string(),
        ),
        None => (embedded.to_string(), format!("built-in {name}")),
    };
    serde_yaml::from_str(&text).map_err(|e| ConfigError::Invalid {
        path: shown,
        reason: e.to_string(),
    })
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
