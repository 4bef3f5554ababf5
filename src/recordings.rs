//! Utterance recordings, when the owner keeps them (`recordings.keep` in
//! `policies/memory.yaml`, off by default): each utterance a WAV encrypted
//! with age to the vault's identity, `recordings/UNIX_MS.wav.age` under the
//! data dir (0600), purged once older than the policy's `ttl`. Nothing is
//! written unencrypted, not even for a moment.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hauski_skills::vault::{Vault, VaultError};

#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("cannot use {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("there is no recording {name:?} in {dir}; `hauski recordings list` shows them")]
    NotFound { name: String, dir: PathBuf },
}

/// One kept recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// `1764590400000` (its file is `NAME.wav.age`).
    pub name: String,
    /// When it was said, in Unix milliseconds.
    pub at_ms: i64,
    pub path: PathBuf,
}

pub struct Recordings {
    dir: PathBuf,
    vault: Arc<Vault>,
    ttl_ms: Option<i64>,
}

const SUFFIX: &str = ".wav.age";

impl Recordings {
    /// The recordings under `data_dir`, encrypted to its vault (whose
    /// identity is made if there is none), kept for `ttl_ms` (`None`: until purged).
    pub fn open(data_dir: &Path, ttl_ms: Option<i64>) -> Result<Self, RecordingError> {
        Ok(Self {
            dir: data_dir.join("recordings"),
            vault: Arc::new(Vault::open_or_create(data_dir)?),
            ttl_ms,
        })
    }

    /// For the CLI: the identity must exist already (without one, nothing
    /// was ever kept).
    pub fn open_existing(data_dir: &Path, ttl_ms: Option<i64>) -> Result<Self, RecordingError> {
        Ok(Self {
            dir: data_dir.join("recordings"),
            vault: Arc::new(Vault::open(data_dir)?),
            ttl_ms,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keeps `samples` (mono, `rate` Hz) said at `at_ms`.
    pub fn keep(&self, samples: &[f32], rate: u32, at_ms: i64) -> Result<Recording, RecordingError> {
        let _span = tracing::info_span!("recording", at_ms).entered();
        let name = at_ms.to_string();
        let path = self.dir.join(format!("{name}{SUFFIX}"));
        self.vault
            .encrypt_to(&path, &hauski_audio::encode_wav(samples, rate))?;
        tracing::info!(path = %path.display(), seconds = samples.len() as f32 / rate as f32, "utterance kept, encrypted");
        Ok(Recording { name, at_ms, path })
    }

    /// Every kept recording, oldest first.
    pub fn list(&self) -> Result<Vec<Recording>, RecordingError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(RecordingError::Io {
                    path: self.dir.clone(),
                    source,
                });
            }
        };
        let mut kept: Vec<Recording> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let file = entry.file_name().to_string_lossy().to_string();
                let name = file.strip_suffix(SUFFIX)?.to_string();
                let at_ms = name.parse().ok()?;
                Some(Recording {
                    name,
                    at_ms,
                    path: entry.path(),
                })
            })
            .collect();
        kept.sort_by_key(|r| r.at_ms);
        Ok(kept)
    }

    /// The WAV of recording `name`, decrypted.
    pub fn open_wav(&self, name: &str) -> Result<Vec<u8>, RecordingError> {
        let found =
            self.list()?
                .into_iter()
                .find(|r| r.name == name)
                .ok_or_else(|| RecordingError::NotFound {
                    name: name.into(),
                    dir: self.dir.clone(),
                })?;
        Ok(self.vault.decrypt_file(&found.path)?)
    }

    /// Removes the recordings older than the policy keeps them (all of
    /// them with `everything`); returns how many.
    pub fn purge(&self, now_ms: i64, everything: bool) -> Result<usize, RecordingError> {
        let mut removed = 0;
        for recording in self.list()? {
            let expired = self.ttl_ms.is_some_and(|ttl| recording.at_ms + ttl <= now_ms);
            if everything || expired {
                std::fs::remove_file(&recording.path).map_err(|source| RecordingError::Io {
                    path: recording.path.clone(),
                    source,
                })?;
                removed += 1;
            }
        }
        if removed > 0 {
            tracing::info!(removed, "recordings purged");
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: i64 = 86_400_000;

    #[test]
    fn recordings_round_trip_sealed_and_expire() {
        let dir = tempfile::tempdir().expect("dir");
        let recordings = Recordings::open(dir.path(), Some(7 * DAY_MS)).expect("open");
        let samples: Vec<f32> = (0..16_000).map(|i| ((i as f32) * 0.05).sin() * 0.5).collect();
        let old = recordings.keep(&samples, 16_000, 1_000).expect("keep");
        let new = recordings
            .keep(&samples[..8000], 16_000, 8 * DAY_MS)
            .expect("keep");
        let names: Vec<String> = recordings
            .list()
            .expect("list")
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, [old.name.clone(), new.name.clone()]);
        let wav = recordings.open_wav(&new.name).expect("decrypt");
        assert_eq!(wav, hauski_audio::encode_wav(&samples[..8000], 16_000));
        let sealed = std::fs::read(&new.path).expect("file");
        assert!(sealed.starts_with(b"age-encryption.org/v1"));
        assert!(!sealed.windows(4).any(|w| w == b"RIFF"));

        // Without the identity they cannot be read, and the error says why.
        std::fs::rename(dir.path().join("identity.txt"), dir.path().join("moved.txt")).expect("move");
        let refused = Recordings::open_existing(dir.path(), None)
            .err()
            .expect("no identity");
        assert!(refused.to_string().contains("identity.txt"), "{refused}");
        std::fs::rename(dir.path().join("moved.txt"), dir.path().join("identity.txt")).expect("back");

        assert_eq!(recordings.purge(8 * DAY_MS, false).expect("purge"), 1);
        assert!(recordings.open_wav(&old.name).is_err());
        assert_eq!(recordings.purge(8 * DAY_MS, true).expect("purge all"), 1);
        assert!(recordings.list().expect("list").is_empty());
    }
}
