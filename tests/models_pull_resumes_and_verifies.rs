//! `hauski models pull` against a real HTTP server on loopback: download,
//! resume after an interrupted transfer, sha256 check, egress policy.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::{hauski, run_err, run_ok};
use sha2::{Digest, Sha256};

/// A minimal HTTP/1.1 file server that honours `Range: bytes=N-`. When
/// `cut_first` is set, the first response stops halfway, as a dropped
/// connection would. Records each request's Range header.
struct Server {
    url: String,
    ranges: Arc<Mutex<Vec<Option<String>>>>,
}

fn serve(content: Vec<u8>, cut_first: bool, max_requests: usize) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}/models/model.bin", listener.local_addr().expect("addr"));
    let ranges = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&ranges);
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().take(max_requests).enumerate() {
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
            let start: usize = range.as_deref().and_then(|r| r.parse().ok()).unwrap_or(0);
            let body = &content[start.min(content.len())..];
            let status = if start > 0 {
                "206 Partial Content"
            } else {
                "200 OK"
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let send = if cut_first && n == 0 {
                &body[..body.len() / 2]
            } else {
                body
            };
            let _ = stream.write_all(send);
            let _ = stream.flush();
        }
    });
    Server { url, ranges }
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
        let sandbox = Self {
            root: tempfile::tempdir().expect("tmp"),
            config: tempfile::tempdir().expect("tmp"),
        };
        std::fs::write(
            sandbox.config.path().join("models.yml"),
            format!(
                "models:\n  - id: test-model\n    kind: llm\n    path: llm/model.bin\n    sha256: {sha256}\n    quantisation: f32\n    url: {url}\ndefaults:\n  asr: []\n  tts: []\n  llm: [test-model]\n"
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
    let server = serve(content.clone(), false, 1);
    let sandbox = Sandbox::new(&server.url, &sha_hex(&content));
    let out = run_ok(&mut sandbox.models("pull"));
    assert!(out.contains("downloaded and verified"), "{out}");
    assert_eq!(std::fs::read(sandbox.file("model.bin")).expect("file"), content);
    assert!(!sandbox.file("model.bin.part").exists());
    run_ok(&mut sandbox.models("verify"));
}

#[test]
fn interrupted_pull_resumes_with_a_range_request() {
    let content = model_bytes();
    let server = serve(content.clone(), true, 2);
    let sandbox = Sandbox::new(&server.url, &sha_hex(&content));
    let err = run_err(&mut sandbox.models("pull"));
    assert!(err.contains("run the same command again to resume"), "{err}");
    let kept = std::fs::metadata(sandbox.file("model.bin.part"))
        .expect("partial download kept")
        .len() as usize;
    assert_eq!(kept, content.len() / 2);

    run_ok(&mut sandbox.models("pull"));
    assert_eq!(std::fs::read(sandbox.file("model.bin")).expect("file"), content);
    let ranges = server.ranges.lock().expect("lock").clone();
    assert_eq!(
        ranges,
        vec![None, Some(kept.to_string())],
        "second request resumes at the kept length"
    );
}

#[test]
fn checksum_mismatch_discards_the_download() {
    let server = serve(model_bytes(), false, 1);
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
        .find(|m| m["id"] == "whisper-tiny-en")
        .expect("whisper listed");
    assert_eq!(whisper["present"], true);
    for field in ["kind", "path", "sha256", "quantisation", "url"] {
        assert!(whisper[field].is_string(), "{field}: {whisper}");
    }
}
