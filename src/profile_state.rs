//! The active audio profile at runtime: switched by voice, CLI or API, kept in
//! the data dir so a restart comes back on the same sink.

use std::path::PathBuf;
use std::sync::RwLock;

use crate::config::ProfilesFile;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("I don't know a profile called {name:?}; I know {known}")]
    Unknown { name: String, known: String },
    #[error("cannot save the active profile to {path}: {source}")]
    Save {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub struct ActiveProfile {
    profiles: ProfilesFile,
    path: PathBuf,
    current: RwLock<String>,
}

impl ActiveProfile {
    /// The saved profile if it still exists in profiles.yaml, else the file's `active`.
    pub fn load(profiles: ProfilesFile, data_dir: &std::path::Path) -> Self {
        let path = data_dir.join("active-profile");
        let saved = std::fs::read_to_string(&path)
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|name| {
                let known = profiles.profiles.contains_key(name);
                if !known && !name.is_empty() {
                    tracing::warn!(%name, "the saved profile is no longer in profiles.yaml; using the default");
                }
                known
            });
        let current = saved.unwrap_or_else(|| profiles.active.clone());
        Self {
            profiles,
            path,
            current: RwLock::new(current),
        }
    }

    pub fn name(&self) -> String {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn profiles(&self) -> &ProfilesFile {
        &self.profiles
    }

    /// The active profile's settings (profiles.yaml's `active` if the saved
    /// name is gone); `None` only if profiles.yaml names neither.
    pub fn settings(&self) -> Option<crate::config::Profile> {
        self.profiles
            .profiles
            .get(&self.name())
            .or_else(|| self.profiles.active_profile())
            .cloned()
    }

    /// Resolves a profile name or synonym ("kitchen", "Küche") to its name.
    pub fn resolve(&self, spoken: &str) -> Option<String> {
        let wanted = spoken.trim().to_lowercase();
        self.profiles.profiles.iter().find_map(|(name, p)| {
            (name.to_lowercase() == wanted || p.synonyms.iter().any(|s| s.to_lowercase() == wanted))
                .then(|| name.clone())
        })
    }

    /// [`resolve`](Self::resolve), or the error that names the known profiles.
    pub fn resolve_known(&self, spoken: &str) -> Result<String, ProfileError> {
        self.resolve(spoken).ok_or_else(|| ProfileError::Unknown {
            name: spoken.to_string(),
            known: self.profiles.known_names(),
        })
    }

    /// Makes `name` (or a synonym of it) active and saves it; returns the profile name.
    pub fn set(&self, name: &str) -> Result<String, ProfileError> {
        let resolved = self.resolve_known(name)?;
        // Written aside and renamed: a crash leaves the old name or the new, never half.
        let tmp = self.path.with_extension("tmp");
        let save = |source| ProfileError::Save {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(save)?;
        }
        std::fs::write(&tmp, format!("{resolved}\n")).map_err(save)?;
        std::fs::rename(&tmp, &self.path).map_err(save)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = resolved.clone();
        tracing::info!(profile = %resolved, "audio profile switched");
        Ok(resolved)
    }
}
