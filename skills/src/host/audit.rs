//! The audit log: one JSON line per decision the sandbox makes about a skill
//! (loaded, refused, trapped, stopped), each carrying the SHA-256 of the line
//! before it, so an edited, removed or reordered line breaks the chain, and
//! signed (Ed25519) with the daemon's audit key, so the chain cannot be
//! rewritten from start to end without it either.
//!
//! A line is `HASH SIGNATURE ENTRY`: the hash of the previous hash and the
//! entry, its signature, both hex, and the entry as JSON. The key lives
//! beside the log (`audit.key`, PKCS#8, readable by the daemon's user only);
//! its public half (`audit.pub`, hex) is what a verifier needs. Lines from
//! before logs were signed (`HASH ENTRY`) are accepted only at the start.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde_json::json;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot write the audit log {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("the audit log {path} is broken at line {line}: {reason}")]
    Broken {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("the audit key {path} is not usable: {reason}; move it aside to start a new signed log")]
    Key { path: PathBuf, reason: String },
}

pub struct AuditLog {
    path: PathBuf,
    key: Ed25519KeyPair,
    /// The hash of the last line written.
    last: Mutex<String>,
}

/// The chain's start: the hash "before" the first line.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn hash(previous: &str, entry: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update(b"\n");
    hasher.update(entry.as_bytes());
    hex::encode(hasher.finalize())
}

/// The signing key beside the log at `log`, made (and its public half
/// written) on first use.
fn signing_key(log: &Path) -> Result<Ed25519KeyPair, AuditError> {
    let path = log.with_extension("key");
    let problem = |reason: String| AuditError::Key {
        path: path.clone(),
        reason,
    };
    let pkcs8 = match std::fs::read(&path) {
        Ok(pkcs8) => pkcs8,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let made = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
                .map_err(|_| problem("the system's random source failed".into()))?;
            write_private(&path, made.as_ref()).map_err(|e| problem(e.to_string()))?;
            made.as_ref().to_vec()
        }
        Err(e) => return Err(problem(e.to_string())),
    };
    let key = Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|e| problem(e.to_string()))?;
    std::fs::write(
        log.with_extension("pub"),
        format!("{}\n", hex::encode(key.public_key().as_ref())),
    )
    .map_err(|e| problem(format!("cannot write its public half: {e}")))?;
    Ok(key)
}

/// Writes `bytes` to a new file only its owner may read.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

impl AuditLog {
    /// Opens (or starts) the log at `path` with its signing key, checking
    /// the chain and signatures so far.
    pub fn open(path: &Path) -> Result<Self, AuditError> {
        let key = signing_key(path)?;
        let last = match std::fs::read_to_string(path) {
            Ok(text) => verify(path, &text, key.public_key().as_ref())?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => GENESIS.to_string(),
            Err(source) => {
                return Err(AuditError::Write {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            key,
            last: Mutex::new(last),
        })
    }

    /// Appends one decision about `skill` and syncs it to disk.
    pub fn record(&self, skill: &str, decision: &str, detail: &str) -> Result<(), AuditError> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let entry = json!({
            "at_ms": std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            "skill": skill,
            "decision": decision,
            "detail": detail,
            "prev": *last,
        })
        .to_string();
        let line_hash = hash(&last, &entry);
        let signature = hex::encode(self.key.sign(line_hash.as_bytes()).as_ref());
        let line = format!("{line_hash} {signature} {entry}\n");
        let fail = |source| AuditError::Write {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(fail)?;
        file.write_all(line.as_bytes()).map_err(fail)?;
        file.sync_data().map_err(fail)?;
        tracing::info!(skill, decision, detail, "audit");
        *last = line_hash;
        Ok(())
    }
}

/// Checks every line's hash against its entry and the line before, and its
/// signature against `public_key` (the 32 bytes in `audit.pub`); returns the
/// last hash.
pub fn verify(path: &Path, text: &str, public_key: &[u8]) -> Result<String, AuditError> {
    let public_key = UnparsedPublicKey::new(&ED25519, public_key);
    let mut previous = GENESIS.to_string();
    let mut signed_yet = false;
    for (i, line) in text.lines().enumerate() {
        let broken = |reason: &str| AuditError::Broken {
            path: path.to_path_buf(),
            line: i + 1,
            reason: reason.to_string(),
        };
        let (line_hash, rest) = line.split_once(' ').ok_or_else(|| broken("no hash"))?;
        let entry = match rest.split_once(' ') {
            Some((signature, entry)) if !signature.starts_with('{') => {
                let signature = hex::decode(signature).map_err(|_| broken("its signature is not hex"))?;
                public_key
                    .verify(line_hash.as_bytes(), &signature)
                    .map_err(|_| broken("its signature is not the audit key's"))?;
                signed_yet = true;
                entry
            }
            _ if signed_yet => return Err(broken("it is not signed")),
            _ => rest,
        };
        let parsed: serde_json::Value =
            serde_json::from_str(entry).map_err(|_| broken("not a JSON entry"))?;
        if parsed["prev"] != previous.as_str() {
            return Err(broken("it does not follow the line before"));
        }
        if hash(&previous, entry) != line_hash {
            return Err(broken("its hash does not match its entry"));
        }
        previous = line_hash.to_string();
    }
    Ok(previous)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_removals_and_swaps_break_the_chain_at_their_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.log");
        let log = AuditLog::open(&path).expect("open");
        for skill in ["a", "b", "c"] {
            log.record(skill, "loaded", "").expect("record");
        }
        let public = hex::decode(
            std::fs::read_to_string(dir.path().join("audit.pub"))
                .expect("the public key")
                .trim(),
        )
        .expect("hex");
        let verify = |path: &Path, text: &str| super::verify(path, text, &public);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(verify(&path, &text).is_ok());
        let lines: Vec<&str> = text.lines().collect();
        let edited = text.replace("\"skill\":\"b\"", "\"skill\":\"x\"");
        let removed = [lines[0], lines[2]].join("\n");
        let swapped = [lines[1], lines[0], lines[2]].join("\n");
        for (tampered, line) in [(edited, 2), (removed, 2), (swapped, 1)] {
            match verify(&path, &tampered) {
                Err(AuditError::Broken { line: at, .. }) => assert_eq!(at, line),
                other => panic!("tampering not found: {other:?}"),
            }
        }
        // Reopened, the log goes on from its last line.
        drop(log);
        AuditLog::open(&path)
            .expect("reopen")
            .record("d", "loaded", "")
            .expect("record");
        assert!(verify(&path, &std::fs::read_to_string(&path).expect("read")).is_ok());
    }

    /// A chain recomputed from start to end after an edit still fails:
    /// it cannot be signed without the key.
    #[test]
    fn a_rewritten_chain_fails_without_the_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.log");
        let log = AuditLog::open(&path).expect("open");
        log.record("a", "refused", "asked for kv").expect("record");
        let public = log.key.public_key().as_ref().to_vec();
        let text = std::fs::read_to_string(&path).expect("read");
        let (_, rest) = text.trim_end().split_once(' ').expect("hash");
        let (signature, entry) = rest.split_once(' ').expect("signature");
        let forged_entry = entry.replace("refused", "loaded");
        let forged_hash = hash(GENESIS, &forged_entry);
        let forged = format!("{forged_hash} {signature} {forged_entry}\n");
        match verify(&path, &forged, &public) {
            Err(AuditError::Broken { line: 1, reason, .. }) => {
                assert!(reason.contains("signature"), "{reason}")
            }
            other => panic!("the forgery passed: {other:?}"),
        }
        // A key of another daemon does not verify this log either.
        let other = tempfile::tempdir().expect("tempdir");
        let stranger = AuditLog::open(&other.path().join("audit.log")).expect("open");
        let stranger_public = stranger.key.public_key().as_ref().to_vec();
        assert!(verify(&path, &text, &stranger_public).is_err());
        // The key is the daemon's user's alone.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("audit.key"))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    /// A log from before signing goes on, signed from then on; an unsigned
    /// line after a signed one is refused.
    #[test]
    fn an_unsigned_log_goes_on_signed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.log");
        let entry =
            json!({"at_ms": 1, "skill": "lists", "decision": "loaded", "detail": "", "prev": GENESIS})
                .to_string();
        let old_hash = hash(GENESIS, &entry);
        std::fs::write(&path, format!("{old_hash} {entry}\n")).expect("old log");
        let log = AuditLog::open(&path).expect("an unsigned log opens");
        log.record("lists", "loaded", "").expect("record");
        let public = log.key.public_key().as_ref().to_vec();
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(verify(&path, &text, &public).is_ok());
        let entry2 = json!({"at_ms": 2, "skill": "x", "decision": "loaded", "detail": "",
            "prev": *log.last.lock().expect("last")})
        .to_string();
        let unsigned_after = format!(
            "{text}{} {entry2}\n",
            hash(&log.last.lock().expect("last"), &entry2)
        );
        match verify(&path, &unsigned_after, &public) {
            Err(AuditError::Broken { line: 3, reason, .. }) => {
                assert!(reason.contains("not signed"), "{reason}")
            }
            other => panic!("an unsigned line after signed ones passed: {other:?}"),
        }
    }
}
