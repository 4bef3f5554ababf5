//! `adapters.yaml` under the data dir: which adapters run and their
//! settings (a homeserver's address, an account's number), as
//! `hauski adapters enable|disable` writes it. Credentials never go here;
//! they go to the vault (`hauski secrets set`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AdapterSettings(BTreeMap<String, AdapterState>);

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdapterState {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot use {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not adapters' settings ({reason}); fix or remove it")]
    Malformed { path: PathBuf, reason: String },
}

impl AdapterSettings {
    pub const FILE: &'static str = "adapters.yaml";

    /// The settings in `data_dir`; none yet when the file is missing.
    pub fn load(data_dir: &Path) -> Result<Self, SettingsError> {
        let path = data_dir.join(Self::FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) if text.trim().is_empty() => Ok(Self::default()),
            Ok(text) => serde_yaml::from_str(&text).map_err(|e| SettingsError::Malformed {
                path,
                reason: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(SettingsError::Io { path, source }),
        }
    }

    /// Writes them to `data_dir`, whole or not at all.
    pub fn save(&self, data_dir: &Path) -> Result<(), SettingsError> {
        let path = data_dir.join(Self::FILE);
        let fail = |source| SettingsError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(fail)?;
        let text = format!(
            "# Written by `hauski adapters enable|disable`; credentials live in the vault.\n{}",
            serde_yaml::to_string(self).unwrap_or_default()
        );
        let partial = path.with_extension("partial");
        std::fs::write(&partial, text).map_err(fail)?;
        std::fs::rename(&partial, &path).map_err(fail)
    }

    pub fn get(&self, adapter: &str) -> Option<&AdapterState> {
        self.0.get(adapter)
    }

    pub fn is_enabled(&self, adapter: &str) -> bool {
        self.get(adapter).is_some_and(|a| a.enabled)
    }

    /// Turns `adapter` on or off, merging `settings` into what it had.
    pub fn set(&mut self, adapter: &str, enabled: bool, settings: BTreeMap<String, String>) {
        let state = self.0.entry(adapter.to_string()).or_default();
        state.enabled = enabled;
        state.settings.extend(settings);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_a_broken_file_is_named() {
        let dir = tempfile::tempdir().expect("dir");
        let mut settings = AdapterSettings::load(dir.path()).expect("none yet");
        assert!(!settings.is_enabled("signal"));
        settings.set(
            "signal",
            true,
            [("number".to_string(), "+4912345".to_string())].into(),
        );
        settings.set(
            "signal",
            true,
            [("api".to_string(), "http://127.0.0.1:8080".to_string())].into(),
        );
        settings.save(dir.path()).expect("save");
        let read = AdapterSettings::load(dir.path()).expect("read");
        assert_eq!(read, settings);
        assert_eq!(read.get("signal").map(|s| s.settings.len()), Some(2));
        std::fs::write(dir.path().join(AdapterSettings::FILE), "signal: [").expect("write");
        let broken = AdapterSettings::load(dir.path()).expect_err("broken");
        assert!(broken.to_string().contains("adapters.yaml"), "{broken}");
    }
}
