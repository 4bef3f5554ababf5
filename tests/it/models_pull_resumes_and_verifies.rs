//! `hauski models pull` against a real HTTP server on loopback: download,
//! resume after an interrupted transfer, sha256 check, egress policy.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::common::{hauski, run_err, run_ok};
use sha2::{Digest, Sha256};

/// What the test server does with one request.
#[derive(Clone)]
enum Reply {
    /// The file from the requested range on.
    Whole,
    /// The headers for the whole range, then only half of it: a dropped
    /// connection.
    Cut,
    /// Only this status, no body.
    Status(u16),
    /// A redirect to this URL.
    Redirect(String),
}

/// A minimal HTTP/1.1 file server that honours `Range: bytes=N-` and answers
/// request n with `plan[n]` (the last entry for any after). Records each
/// request's Range header.
struct Server {
    url: String,
    ranges: Arc<Mutex<Vec<Option<String>>>>,
}

fn serve_plan(content: Vec<u8>, plan: Vec<Reply>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}/models/model.bin", listener.local_addr().expect("addr"));
    let ranges = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&ranges);
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut range = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                    range = Some(v.trim().trim_end_matches('-').to_string());
                }
            }
            seen.lock().expect("lock").push(range.clone());
            let reply = plan.get(n).or(plan.last()).cloned().unwrap_or(Reply::Whole);
            let start: usize = range.as_deref().and_then(|r| r.parse().ok()).unwrap_or(0);
            let body = &content[start.min(content.len())..];
            let (head, send): (String, &[u8]) = match &reply {
                Reply::Status(code) => (
                    format!("HTTP/1.1 {code} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
                    &[],
                ),
                Reply::Redirect(to) => (
                    format!(
                        "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    ),
                    &[],
                ),
                Reply::Whole | Reply::Cut => {
                    let status = if start > 0 {
                        "206 Partial Content"
                    } else {
                        "200 OK"
                    };
                    let send = if matches!(reply, Reply::Cut) {
                        &body[..body.len() / 2]
                    } else {
                        body
                    };
                    (
                        format!(
                            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                            body.len()
                        ),
                        send,
                    )
                }
            };
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(send);
            let _ = stream.flush();
        }
    });
    Server { url, ranges }
}

fn serve(content: Vec<u8>) -> Server {
    serve_plan(content, vec![Reply::Whole])
}

fn model_bytes() -> Vec<u8> {
    (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// A model root and a config dir whose models.yml lists one model at `url`.
struct Sandbox {
    root: tempfile::TempDir,
    config: tempfile::TempDir,
}

impl Sandbox {
    fn new(url: &str, sha256: &str) -> Self {
        Self::with_checksum(url, "sha256", sha256)
    }

    /// `algorithm` is the models.yml key: sha256 or sha1.
    fn with_checksum(url: &str, algorithm: &str, hex: &str) -> Self {
        let sandbox = Self {
            root: tempfile::tempdir().expect("tmp"),
            config: tempfile::tempdir().expect("tmp"),
        };
        std::fs::write(
            sandbox.config.path().join("models.yml"),
            format!(
                "models:\n  - id: test-model\n    kind: llm\n    path: llm/model.bin\n    {algorithm}: {hex}\n    quantisation: f32\n    url: {url}\ndefaults:\n  asr: []\n  tts: []\n  llm: [test-model]\n"
            ),
        )
        .expect("write models.yml");
        sandbox
    }

    fn models(&self, action: &str) -> Command {
        let mut cmd = hauski();
        cmd.env("HAUSKI_MODELS", self.root.path())
            .env("HAUSKI_CONFIG", self.config.path())
            .args(["models", action, "test-model"]);
        cmd
    }

    fn file(&self, name: &str) -> PathBuf {
        self.root.path().join("llm").join(name)
    }
}

fn sha_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn pull_downloads_and_verifies() {
    let content = model_bytes();
    let server = serve(content.clone());
    let sandbox = Sandbox::new(&server.url, &sha_hex(&content));
    let out = run_ok(&mut sandbox.models("pull"));
    assert!(out.contains("downloaded and verified"), "{out}");
    assert_eq!(std::fs::read(sandbox.file("model.bin")).expect("file"), content);
    assert!(!sandbox.file("model.bin.part").exists());
    run_ok(&mut sandbox.models("verify"));
}

#[test]
fn a_sha1_checksum_is_held_too() {
    let content = model_bytes();
    let server = serve(content.clone());
    let right = hex::encode(sha1::Sha1::digest(&content));
    let sandbox = Sandbox::with_checksum(&server.url, "sha1", &right);
    let out = run_ok(&mut sandbox.models("pull"));
    assert!(out.contains("downloaded and verified"), "{out}");

    let wrong = Sandbox::with_checksum(&server.url, "sha1", &"0".repeat(40));
    let err = run_err(&mut wrong.models("pull"));
    assert!(
        err.contains("sha1 mismatch") && err.contains("discarded"),
        "{err}"
    );
    assert!(!wrong.file("model.bin").exists());
}

#[test]
fn an_interrupted_transfer_is_resumed_by_a_retry() {
    let content = model_bytes();
    let server = serve_plan(content.clone(), vec![Reply::Cut, Reply::Whole]);
    let sandbox = Sandbox::new(&server.url, &sha_hex(&content));
    let out = run_ok(&mut sandbox.models("pull"));
    assert!(out.contains("downloaded and verified"), "{out}");
    assert_eq!(std::fs::read(sandbox.file("model.bin")).expect("file"), content);
    let ranges = server.ranges.lock().expect("lock").clone();
    assert_eq!(
        ranges,
        vec![None, Some((content.len() / 2).to_string())],
        "the retry resumes at the kept length"
    );
}

#[test]
fn a_pull_that_keeps_failing_keeps_its_part_and_resumes_next_time() {
    let content = model_bytes();
    // Every attempt of the first pull breaks off half-way.
    let server = serve_plan(
        content.clone(),
        vec![Reply::Cut, Reply::Cut, Reply::Cut, Reply::Cut, Reply::Whole],
    );
    let sandbox = Sandbox::new(&server.url, &sha_hex(&content));
    let err = run_err(&mut sandbox.models("pull"));
    assert!(
        err.contains("after 4 attempts") && err.contains("run the same command again to resume"),
        "{err}"
    );
    let kept = std::fs::metadata(sandbox.file("model.bin.part"))
        .expect("partial download kept")
        .len() as usize;
    assert!(kept > content.len() / 2 && kept < content.len(), "kept {kept}");

    run_ok(&mut sandbox.models("pull"));
    assert_eq!(std::fs::read(sandbox.file("model.bin")).expect("file"), content);
    let ranges = server.ranges.lock().expect("lock").clone();
    assert_eq!(ranges.last().cloned().flatten(), Some(kept.to_string()));
}

#[test]
fn an_overloaded_server_is_retried() {
    let content = model_bytes();
    let server = serve_plan(content.clone(), vec![Reply::Status(503), Reply::Whole]);
    let sandbox = Sandbox::new(&server.url, &sha_hex(&content));
    let out = run_ok(&mut sandbox.models("pull"));
    assert!(out.contains("downloaded and verified"), "{out}");
    assert_eq!(server.ranges.lock().expect("lock").len(), 2);
}

#[test]
fn a_missing_file_is_not_retried() {
    let server = serve_plan(model_bytes(), vec![Reply::Status(404)]);
    let sandbox = Sandbox::new(&server.url, &"0".repeat(64));
    let err = run_err(&mut sandbox.models("pull"));
    assert!(
        err.contains("answered 404") && err.contains("models.yml"),
        "{err}"
    );
    assert_eq!(server.ranges.lock().expect("lock").len(), 1);
}

#[test]
fn every_redirect_hop_is_checked_against_the_policy() {
    let content = model_bytes();
    // Loopback to loopback: allowed, followed.
    let mirror = serve(content.clone());
    let hub = serve_plan(Vec::new(), vec![Reply::Redirect(mirror.url.clone())]);
    let sandbox = Sandbox::new(&hub.url, &sha_hex(&content));
    run_ok(&mut sandbox.models("pull"));
    assert_eq!(std::fs::read(sandbox.file("model.bin")).expect("file"), content);

    // To a host routing.yaml never allowed: refused before connecting there.
    let hub = serve_plan(
        Vec::new(),
        vec![Reply::Redirect("https://cdn.example.org/model.bin".into())],
    );
    let sandbox = Sandbox::new(&hub.url, &sha_hex(&content));
    let err = run_err(&mut sandbox.models("pull"));
    assert!(
        err.contains("redirects to cdn.example.org") && err.contains("routing.yaml"),
        "{err}"
    );
    assert!(!sandbox.file("model.bin").exists());
}

#[test]
fn checksum_mismatch_discards_the_download() {
    let server = serve(model_bytes());
    let sandbox = Sandbox::new(&server.url, &"0".repeat(64));
    let err = run_err(&mut sandbox.models("pull"));
    assert!(
        err.contains("sha256 mismatch") && err.contains("discarded"),
        "{err}"
    );
    assert!(!sandbox.file("model.bin").exists());
    assert!(!sandbox.file("model.bin.part").exists());
}

#[test]
fn egress_to_an_unlisted_host_is_denied_by_policy() {
    let sandbox = Sandbox::new("https://models.example.net/model.bin", &"0".repeat(64));
    let err = run_err(&mut sandbox.models("pull"));
    assert!(
        err.contains("models.example.net") && err.contains("routing.yaml"),
        "{err}"
    );
}

#[test]
fn list_shows_presence_of_each_model() {
    let out = run_ok(hauski().args(["models", "list", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let whisper = v
        .as_array()
        .expect("array")
        .iter()
        .find(|m| m["id"] == "whisper-tiny-en-test")
        .expect("whisper listed");
    assert_eq!(whisper["present"], true);
    assert_eq!(whisper["test_model"], true, "{whisper}");
    for field in ["kind", "path", "sha256", "quantisation", "source"] {
        assert!(whisper[field].is_string(), "{field}: {whisper}");
    }
    // What a home box downloads is a separate entry, checked by whisper.cpp's own SHA-1.
    let upstream = v
        .as_array()
        .expect("array")
        .iter()
        .find(|m| m["id"] == "whisper-tiny-en")
        .expect("upstream whisper listed");
    assert!(
        upstream["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/ggml-tiny.en-q8_0.bin")),
        "{upstream}"
    );
    assert_eq!(upstream["sha1"], "802d6668e7d411123e672abe4cb6c18f12306abb");
}

#[test]
fn a_test_model_is_not_pulled_and_says_where_it_comes_from() {
    let err = run_err(
        hauski()
            .env("HAUSKI_MODELS", common::fresh_dir("no-models"))
            .args(["models", "pull", "tiny-random-llama"]),
    );
    assert!(
        err.contains("no download url") && err.contains("../shared/models"),
        "{err}"
    );
}
