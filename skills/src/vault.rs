//! The vault: what HausKI keeps that only its owner may read (adapters'
//! credentials, and utterance recordings when the owner keeps them),
//! encrypted with age to an X25519 identity made at first start.
//!
//! The identity is `identity.txt` under the data dir, readable by the
//! daemon's user only (0600). Secrets are one age file, `secrets.age`: a
//! JSON map of owner → key → value, rewritten whole (to a temporary file,
//! then renamed) so a crash mid-write leaves the old one intact. Without
//! the identity neither can be read; a wrong identity is told apart from a
//! damaged file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use age::secrecy::ExposeSecret;
use age::x25519::{Identity, Recipient};

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("cannot use {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "the vault's identity {path} is missing; the secrets and recordings encrypted to it cannot be read without it (restore it from a backup)"
    )]
    NoIdentity { path: PathBuf },
    #[error("the vault's identity {path} is not an age X25519 identity: {reason}")]
    BadIdentity { path: PathBuf, reason: String },
    #[error("{path} cannot be decrypted with {identity}: {reason}")]
    Decrypt {
        path: PathBuf,
        identity: PathBuf,
        reason: String,
    },
    #[error("{path} decrypts but is not the vault's JSON: {reason}")]
    Damaged { path: PathBuf, reason: String },
    #[error("cannot encrypt: {0}")]
    Encrypt(String),
    #[error("{0}")]
    Invalid(String),
}

/// Secrets by owner (an adapter's name), then by key.
type Secrets = BTreeMap<String, BTreeMap<String, String>>;

pub struct Vault {
    dir: PathBuf,
    identity: Identity,
    /// Serialises read-modify-write of `secrets.age`.
    writing: Mutex<()>,
}

const IDENTITY_FILE: &str = "identity.txt";
const SECRETS_FILE: &str = "secrets.age";

impl Vault {
    /// The vault under `dir`, its identity made (0600) if there is none yet:
    /// the daemon's first start.
    pub fn open_or_create(dir: &Path) -> Result<Self, VaultError> {
        let path = dir.join(IDENTITY_FILE);
        if !path.exists() {
            let identity = Identity::generate();
            let text = format!(
                "# HausKI's vault identity (age X25519): it decrypts this box's secrets and recordings.\n# public key: {}\n{}\n",
                identity.to_public(),
                identity.to_string().expose_secret()
            );
            write_private(&path, text.as_bytes())?;
            tracing::info!(path = %path.display(), "made the vault's identity");
        }
        Self::open(dir)
    }

    /// The vault under `dir`, whose identity must exist (the CLI's readers:
    /// a missing identity is an error to explain, not a reason to make one).
    pub fn open(dir: &Path) -> Result<Self, VaultError> {
        let path = dir.join(IDENTITY_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(VaultError::NoIdentity { path });
            }
            Err(source) => return Err(VaultError::Io { path, source }),
        };
        let key = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or_default();
        let identity = key
            .parse::<Identity>()
            .map_err(|reason| VaultError::BadIdentity {
                path: path.clone(),
                reason: reason.to_string(),
            })?;
        Ok(Self {
            dir: dir.to_path_buf(),
            identity,
            writing: Mutex::new(()),
        })
    }

    /// The public half, to which everything here is encrypted.
    pub fn recipient(&self) -> Recipient {
        self.identity.to_public()
    }

    /// `plain`, encrypted to this vault's identity (an age file's bytes).
    pub fn encrypt(&self, plain: &[u8]) -> Result<Vec<u8>, VaultError> {
        age::encrypt(&self.recipient(), plain).map_err(|e| VaultError::Encrypt(e.to_string()))
    }

    /// The bytes of the age file at `path`, decrypted.
    pub fn decrypt_file(&self, path: &Path) -> Result<Vec<u8>, VaultError> {
        let sealed = std::fs::read(path).map_err(|source| VaultError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        age::decrypt(&self.identity, &sealed).map_err(|e| VaultError::Decrypt {
            path: path.to_path_buf(),
            identity: self.dir.join(IDENTITY_FILE),
            reason: e.to_string(),
        })
    }

    /// Writes `plain` encrypted to `path` (0600), whole or not at all.
    pub fn encrypt_to(&self, path: &Path, plain: &[u8]) -> Result<(), VaultError> {
        write_private(path, &self.encrypt(plain)?)
    }

    fn secrets(&self) -> Result<Secrets, VaultError> {
        let path = self.dir.join(SECRETS_FILE);
        if !path.exists() {
            return Ok(Secrets::new());
        }
        let plain = self.decrypt_file(&path)?;
        serde_json::from_slice(&plain).map_err(|e| VaultError::Damaged {
            path,
            reason: e.to_string(),
        })
    }

    /// `owner`'s secret `key`, if set.
    pub fn secret(&self, owner: &str, key: &str) -> Result<Option<String>, VaultError> {
        Ok(self.secrets()?.get(owner).and_then(|keys| keys.get(key)).cloned())
    }

    /// The names (never the values) of `owner`'s secrets.
    pub fn secret_names(&self, owner: &str) -> Result<Vec<String>, VaultError> {
        Ok(self
            .secrets()?
            .get(owner)
            .map(|keys| keys.keys().cloned().collect())
            .unwrap_or_default())
    }

    /// Sets `owner`'s secret `key`; the rest of the vault is kept as it was.
    pub fn set_secret(&self, owner: &str, key: &str, value: &str) -> Result<(), VaultError> {
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        if !name_ok(owner) || !name_ok(key) {
            return Err(VaultError::Invalid(format!(
                "{owner:?} / {key:?}: adapter and key names are 1 to 64 letters, digits, '-', '_' or '.'"
            )));
        }
        if value.is_empty() || value.len() > 16 * 1024 {
            return Err(VaultError::Invalid(
                "a secret is 1 byte to 16 KiB; nothing was read from stdin?".into(),
            ));
        }
        let _writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        let mut secrets = self.secrets()?;
        secrets
            .entry(owner.to_string())
            .or_default()
            .insert(key.to_string(), value.to_string());
        let plain = serde_json::to_vec(&secrets).map_err(|e| VaultError::Encrypt(e.to_string()))?;
        self.encrypt_to(&self.dir.join(SECRETS_FILE), &plain)
    }
}

impl crate::host::secrets::SecretReader for Vault {
    fn secret(&self, owner: &str, key: &str) -> Result<Option<String>, String> {
        Vault::secret(self, owner, key).map_err(|e| e.to_string())
    }
}

/// Writes `bytes` to `path` readable by this user only, through a
/// temporary file renamed over it, so a reader never sees half of it.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), VaultError> {
    use std::os::unix::fs::OpenOptionsExt;
    let fail = |source| VaultError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let temporary = path.with_extension("partial");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    std::fs::rename(&temporary, path).map_err(fail)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn secrets_round_trip_and_stay_sealed_without_the_identity() {
        let dir = tempfile::tempdir().expect("dir");
        let vault = Vault::open_or_create(dir.path()).expect("vault");
        let identity = dir.path().join(IDENTITY_FILE);
        let mode = std::fs::metadata(&identity)
            .expect("identity")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let token = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11 ünïcode";
        vault.set_secret("telegram", "token", token).expect("set");
        vault
            .set_secret("matrix", "access_token", "syt_abc")
            .expect("set");
        assert_eq!(
            vault.secret("telegram", "token").expect("read").as_deref(),
            Some(token)
        );
        assert_eq!(vault.secret("matrix", "token").expect("read"), None);
        assert_eq!(vault.secret_names("telegram").expect("names"), ["token"]);

        let sealed = std::fs::read(dir.path().join(SECRETS_FILE)).expect("file");
        assert!(!String::from_utf8_lossy(&sealed).contains("ABC-DEF"));
        // A reopened vault reads them; another identity cannot, and says so.
        assert_eq!(
            Vault::open(dir.path())
                .expect("reopen")
                .secret("telegram", "token")
                .expect("read")
                .as_deref(),
            Some(token)
        );
        let stranger = tempfile::tempdir().expect("dir");
        let other = Vault::open_or_create(stranger.path()).expect("vault");
        std::fs::copy(dir.path().join(SECRETS_FILE), stranger.path().join(SECRETS_FILE)).expect("copy");
        let refused = other.secret("telegram", "token").expect_err("another identity");
        assert!(matches!(refused, VaultError::Decrypt { .. }), "{refused}");
        std::fs::remove_file(&identity).expect("remove");
        let missing = Vault::open(dir.path()).err().expect("no identity");
        assert!(missing.to_string().contains("identity.txt"), "{missing}");
    }

    #[test]
    fn recordings_round_trip_byte_exactly() {
        let dir = tempfile::tempdir().expect("dir");
        let vault = Vault::open_or_create(dir.path()).expect("vault");
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let path = dir.path().join("recordings/one.wav.age");
        vault.encrypt_to(&path, &bytes).expect("write");
        assert_eq!(vault.decrypt_file(&path).expect("read"), bytes);
        assert!(vault.set_secret("telegram", "bad key", "x").is_err());
        assert!(vault.set_secret("telegram", "token", "").is_err());
    }
}
