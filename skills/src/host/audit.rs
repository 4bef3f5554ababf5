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
    /// Appends from this process's threads, one at a time (the file lock
    /// orders them against other processes).
    writing: Mutex<()>,
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
    /// the chain and signatures so far. A last line torn by a crash is set
    /// aside (`audit.torn`) and recorded.
    pub fn open(path: &Path) -> Result<Self, AuditError> {
        let key = signing_key(path)?;
        if let Some(text) = read_log(path)? {
            verify(path, &text, key.public_key().as_ref())?;
        }
        let log = Self {
            path: path.to_path_buf(),
            key,
            writing: Mutex::new(()),
        };
        // Recording sets a torn last line aside first.
        if read_log(path)?.is_some_and(|text| !text.is_empty() && !text.ends_with('\n')) {
            log.record(
                "audit",
                "torn line set aside",
                "the last line, cut off by a crash, is kept in audit.torn",
            )?;
        }
        Ok(log)
    }

    /// The log at `path` for appending only, without checking what is
    /// there (the daemon checks it at start): for a command's one entry,
    /// which should not cost a read of months of log.
    pub fn appender(path: &Path) -> Result<Self, AuditError> {
        Ok(Self {
            path: path.to_path_buf(),
            key: signing_key(path)?,
            writing: Mutex::new(()),
        })
    }

    fn fail(&self, source: std::io::Error) -> AuditError {
        AuditError::Write {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends one decision of `actor` (a skill, an adapter, a command) and
    /// syncs it to disk. Several writers may share the log, in this process
    /// or others (the daemon, `hauski models pull`): each append holds an
    /// exclusive lock on the file and chains to the line it finds last.
    pub fn record(&self, actor: &str, decision: &str, detail: &str) -> Result<(), AuditError> {
        let _in_process = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| self.fail(e))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| self.fail(e))?;
        file.lock().map_err(|e| self.fail(e))?;
        let last = match self.last_line(&mut file)? {
            Tail::Empty => GENESIS.to_string(),
            Tail::Line(hash) => hash,
            Tail::Torn { hash, torn } => {
                self.set_aside(&file, &torn)?;
                hash
            }
        };
        let entry = json!({
            "at_ms": std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            "skill": actor,
            "decision": decision,
            "detail": detail,
            "prev": last,
        })
        .to_string();
        let line_hash = hash(&last, &entry);
        let signature = hex::encode(self.key.sign(line_hash.as_bytes()).as_ref());
        let line = format!("{line_hash} {signature} {entry}\n");
        file.write_all(line.as_bytes()).map_err(|e| self.fail(e))?;
        file.sync_data().map_err(|e| self.fail(e))?;
        tracing::info!(actor, decision, detail, "audit");
        Ok(())
    }

    /// The hash of the log's last complete line, read from the file's end.
    fn last_line(&self, file: &mut std::fs::File) -> Result<Tail, AuditError> {
        use std::io::{Read, Seek, SeekFrom};
        // Far longer than any line the log writes.
        const WINDOW: u64 = 64 * 1024;
        let length = file.seek(SeekFrom::End(0)).map_err(|e| self.fail(e))?;
        if length == 0 {
            return Ok(Tail::Empty);
        }
        let start = length.saturating_sub(WINDOW);
        file.seek(SeekFrom::Start(start)).map_err(|e| self.fail(e))?;
        let mut tail = Vec::new();
        file.read_to_end(&mut tail).map_err(|e| self.fail(e))?;
        // Bytes, not text: a torn line may end inside a character.
        let newline = tail.iter().rposition(|&b| b == b'\n');
        let (complete, torn) = match newline {
            Some(end) => (&tail[..end], &tail[end + 1..]),
            None if start == 0 => (&tail[..0], &tail[..]),
            None => (&tail[..0], &tail[..0]),
        };
        let last_line = complete.rsplit(|&b| b == b'\n').next().unwrap_or_default();
        let hash = last_line
            .split(|&b| b == b' ')
            .next()
            .and_then(|h| std::str::from_utf8(h).ok())
            .filter(|h| h.len() == 64)
            .map_or_else(|| GENESIS.to_string(), str::to_string);
        Ok(if torn.is_empty() {
            Tail::Line(hash)
        } else {
            Tail::Torn {
                hash,
                torn: torn.to_vec(),
            }
        })
    }

    /// A last line cut off by a crash: kept in `audit.torn` for whoever
    /// wants to look, and cut from the log so the chain goes on.
    fn set_aside(&self, log: &std::fs::File, torn: &[u8]) -> Result<(), AuditError> {
        let aside = self.path.with_extension("torn");
        let mut kept = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&aside)
            .map_err(|e| self.fail(e))?;
        kept.write_all(torn).map_err(|e| self.fail(e))?;
        kept.write_all(b"\n").map_err(|e| self.fail(e))?;
        kept.sync_data().map_err(|e| self.fail(e))?;
        let length = log.metadata().map_err(|e| self.fail(e))?.len() - torn.len() as u64;
        log.set_len(length).map_err(|e| self.fail(e))?;
        log.sync_all().map_err(|e| self.fail(e))?;
        tracing::warn!(aside = %aside.display(), "the audit log's last line was torn by a crash; set aside");
        Ok(())
    }
}

/// The end of the log as an append finds it.
enum Tail {
    Empty,
    Line(String),
    /// A last line without its newline, after the line whose hash is `hash`.
    Torn {
        hash: String,
        torn: Vec<u8>,
    },
}

/// The log's text; a line torn inside a character reads as a replacement
/// character, never as an error.
pub fn read_log(path: &Path) -> Result<Option<String>, AuditError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(AuditError::Write {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// What a verified log holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The last complete line's hash, which the next line follows.
    pub last_hash: String,
    /// Complete lines, every one chained and signed.
    pub lines: usize,
    /// The byte length of the complete lines; beyond it, when shorter than
    /// the text, lies a last line cut off by a crash mid-write (torn),
    /// which is reported, not held against the log.
    pub complete_bytes: usize,
}

impl Verified {
    pub fn torn(&self, text: &str) -> bool {
        self.complete_bytes < text.len()
    }
}

/// Checks every line's hash against its entry and the line before, and its
/// signature against `public_key` (the 32 bytes in `audit.pub`). A last
/// line without its newline that does not verify is taken as torn.
pub fn verify(path: &Path, text: &str, public_key: &[u8]) -> Result<Verified, AuditError> {
    let public_key = UnparsedPublicKey::new(&ED25519, public_key);
    let mut previous = GENESIS.to_string();
    let mut signed_yet = false;
    let mut complete_bytes = 0;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    for (i, raw) in lines.iter().enumerate() {
        let unterminated = !raw.ends_with('\n');
        let line = raw.trim_end_matches('\n');
        let broken = |reason: &str| AuditError::Broken {
            path: path.to_path_buf(),
            line: i + 1,
            reason: reason.to_string(),
        };
        match verify_line(line, &previous, &public_key, &mut signed_yet, broken) {
            Ok(hash) => previous = hash,
            Err(_) if unterminated => break,
            Err(e) => return Err(e),
        }
        complete_bytes += raw.len();
    }
    let verified_lines = text[..complete_bytes].lines().count();
    Ok(Verified {
        last_hash: previous,
        lines: verified_lines,
        complete_bytes,
    })
}

/// One line after the one whose hash is `previous`; returns its hash.
fn verify_line(
    line: &str,
    previous: &str,
    public_key: &UnparsedPublicKey<&[u8]>,
    signed_yet: &mut bool,
    broken: impl Fn(&str) -> AuditError,
) -> Result<String, AuditError> {
    let (line_hash, rest) = line.split_once(' ').ok_or_else(|| broken("no hash"))?;
    let entry = match rest.split_once(' ') {
        Some((signature, entry)) if !signature.starts_with('{') => {
            let signature = hex::decode(signature).map_err(|_| broken("its signature is not hex"))?;
            public_key
                .verify(line_hash.as_bytes(), &signature)
                .map_err(|_| broken("its signature is not the audit key's"))?;
            *signed_yet = true;
            entry
        }
        _ if *signed_yet => return Err(broken("it is not signed")),
        _ => rest,
    };
    let parsed: serde_json::Value = serde_json::from_str(entry).map_err(|_| broken("not a JSON entry"))?;
    if parsed["prev"] != previous {
        return Err(broken("it does not follow the line before"));
    }
    if hash(previous, entry) != line_hash {
        return Err(broken("its hash does not match its entry"));
    }
    Ok(line_hash.to_string())
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
        let removed = [lines[0], lines[2], ""].join("\n");
        let swapped = [lines[1], lines[0], lines[2], ""].join("\n");
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

    /// A crash mid-write leaves a torn last line: verify reports it and
    /// holds everything before; the next start sets it aside and goes on.
    #[test]
    fn a_torn_last_line_is_reported_and_set_aside() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.log");
        let log = AuditLog::open(&path).expect("open");
        for skill in ["a", "b"] {
            log.record(skill, "loaded", "").expect("record");
        }
        let public = log.key.public_key().as_ref().to_vec();
        drop(log);
        let whole = std::fs::read_to_string(&path).expect("read");
        let torn_text = &whole[..whole.len() - 30];
        std::fs::write(&path, torn_text).expect("tear");
        let verified = verify(&path, torn_text, &public).expect("a torn line is not fatal");
        assert_eq!(verified.lines, 1);
        assert!(verified.torn(torn_text));
        // Torn in the middle (a line cut, then more written) is tampering.
        let cut_inside = format!("{torn_text}\n{}", whole.lines().nth(1).expect("line 2"));
        assert!(matches!(
            verify(&path, &cut_inside, &public),
            Err(AuditError::Broken { line: 2, .. })
        ));

        let log = AuditLog::open(&path).expect("reopens");
        log.record("c", "loaded", "").expect("record");
        let text = std::fs::read_to_string(&path).expect("read");
        let verified = verify(&path, &text, &public).expect("verifies");
        assert!(!verified.torn(&text));
        assert_eq!(verified.lines, 3);
        assert!(text.contains("torn line set aside"), "{text}");
        let aside = std::fs::read_to_string(dir.path().join("audit.torn")).expect("set aside");
        let line_two = whole.lines().nth(1).expect("line 2");
        assert!(
            !aside.trim_end().is_empty() && line_two.starts_with(aside.trim_end()),
            "{aside}"
        );
    }

    /// A writer killed (SIGKILL) among 10 000 appends: every complete line
    /// verifies, and the log goes on. The writer is this test binary again.
    #[test]
    fn a_kill_mid_write_leaves_every_complete_line_verifiable() {
        if let Some(path) = std::env::var_os("HAUSKI_AUDIT_WRITER") {
            let log = AuditLog::open(Path::new(&path)).expect("open");
            for i in 0..10_000 {
                log.record("writer", "loaded", &format!("entry {i} {}", "x".repeat(i % 300)))
                    .expect("record");
            }
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.log");
        let mut writer = std::process::Command::new(std::env::current_exe().expect("this test binary"))
            .args([
                "--exact",
                "host::audit::tests::a_kill_mid_write_leaves_every_complete_line_verifiable",
            ])
            .env("HAUSKI_AUDIT_WRITER", &path)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("the writer starts");
        // Killed once it has written a few hundred lines, mid-stream.
        loop {
            let written = std::fs::read_to_string(&path).map_or(0, |t| t.lines().count());
            if written >= 300 {
                break;
            }
            assert!(
                writer.try_wait().expect("wait").is_none(),
                "the writer ended early"
            );
            std::thread::yield_now();
        }
        writer.kill().expect("SIGKILL");
        writer.wait().expect("reaped");
        let text = std::fs::read_to_string(&path).expect("read");
        let public = hex::decode(
            std::fs::read_to_string(dir.path().join("audit.pub"))
                .expect("public key")
                .trim(),
        )
        .expect("hex");
        let verified = verify(&path, &text, &public).expect("every complete line verifies");
        assert!(
            verified.lines >= 300 && verified.lines < 10_000,
            "{}",
            verified.lines
        );
        let log = AuditLog::open(&path).expect("reopens");
        log.record("after", "loaded", "").expect("record");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(!verify(&path, &text, &public).expect("verifies").torn(&text));
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
        let last = verify(&path, &text, &public).expect("verifies").last_hash;
        let entry2 =
            json!({"at_ms": 2, "skill": "x", "decision": "loaded", "detail": "", "prev": last}).to_string();
        let unsigned_after = format!("{text}{} {entry2}\n", hash(&last, &entry2));
        match verify(&path, &unsigned_after, &public) {
            Err(AuditError::Broken { line: 3, reason, .. }) => {
                assert!(reason.contains("not signed"), "{reason}")
            }
            other => panic!("an unsigned line after signed ones passed: {other:?}"),
        }
    }
}
