//! The audit log: one JSON line per decision the sandbox makes about a skill
//! (loaded, refused, trapped, stopped), each carrying the SHA-256 of the line
//! before it, so an edited, removed or reordered line breaks the chain.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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
}

pub struct AuditLog {
    path: PathBuf,
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

impl AuditLog {
    /// Opens (or starts) the log at `path`, checking the chain so far.
    pub fn open(path: &Path) -> Result<Self, AuditError> {
        let last = match std::fs::read_to_string(path) {
            Ok(text) => verify(path, &text)?,
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
        let line = format!("{line_hash} {entry}\n");
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

/// Checks every line's hash against its entry and the line before; returns
/// the last hash.
pub fn verify(path: &Path, text: &str) -> Result<String, AuditError> {
    let mut previous = GENESIS.to_string();
    for (i, line) in text.lines().enumerate() {
        let broken = |reason: &str| AuditError::Broken {
            path: path.to_path_buf(),
            line: i + 1,
            reason: reason.to_string(),
        };
        let (line_hash, entry) = line.split_once(' ').ok_or_else(|| broken("no hash"))?;
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
}
