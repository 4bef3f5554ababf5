//! A real `hauski serve` for the API and Wyoming tests: started on free
//! loopback ports, ready when it prints its addresses, killed on drop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// `127.0.0.1:PORT` of the Wyoming server.
    pub wyoming: String,
    pub stderr: PathBuf,
}

impl Server {
    /// Starts `cmd` (a `hauski` command) as `serve` with `extra` flags.
    pub fn start(cmd: Command, extra: &[&str]) -> Self {
        Self::start_with_wyoming(cmd, "127.0.0.1:0", extra)
    }

    /// As [`Server::start`], with Wyoming listening on `wyoming`.
    pub fn start_with_wyoming(mut cmd: Command, wyoming: &str, extra: &[&str]) -> Self {
        let stderr = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "serve-{}-{}.log",
            std::process::id(),
            crate::common::unique()
        ));
        let log = std::fs::File::create(&stderr).expect("log file");
        let mut child = cmd
            // The bus's events and the LLM's prompts too: tests check them in the log.
            .env(
                "RUST_LOG",
                "info,llama-cpp-2=warn,tower_http=warn,hauski::assistant::bus=debug,hauski_brain::conversation=debug",
            )
            .args(["serve", "--listen", "127.0.0.1:0", "--wyoming", wyoming])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("hauski serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut wyoming = String::new();
        // The server prints its addresses once it accepts connections.
        let base = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(addr) = line.strip_prefix("wyoming on tcp://") {
                        wyoming = addr.to_string();
                    }
                    if let Some(url) = line.strip_prefix("listening on ") {
                        break url.to_string();
                    }
                }
                _ => {
                    let _ = child.wait();
                    panic!(
                        "hauski serve exited before listening:\n{}",
                        std::fs::read_to_string(&stderr).unwrap_or_default()
                    );
                }
            }
        };
        Self {
            child,
            base,
            wyoming,
            stderr,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_string()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Asserts the server still answers (after something nasty was sent).
    pub fn assert_alive(&self) {
        let (status, body) = get(&self.url("/healthz"), None);
        assert_eq!(
            status,
            200,
            "healthz after bad input: {body}\nlog:\n{}",
            self.log()
        );
    }

    /// A counter's value from /metrics (0 when not yet exported).
    pub fn metric(&self, name: &str) -> f64 {
        let (_, text) = get(&self.url("/metrics"), None);
        text.lines()
            .filter(|l| l.starts_with(name) && !l.starts_with('#'))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// Waits (bounded) until `condition` holds, polling /metrics-style state.
    pub fn wait_for(&self, what: &str, mut condition: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !condition() {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}\nlog:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(300)))
        .build()
        .into()
}

/// GET; (status, body).
pub fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut request = agent().get(url);
    if let Some(t) = token {
        request = request.header("Authorization", &format!("Bearer {t}"));
    }
    let mut response = request.call().expect("request sent");
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap_or_default())
}

/// DELETE; (status, parsed body).
pub fn delete(url: &str) -> (u16, Value) {
    let mut response = agent().delete(url).call().expect("request sent");
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    let value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{url} answered {status} with non-JSON ({e}): {body}"));
    (status, value)
}

/// POST with a content type; (status, body bytes).
pub fn post(url: &str, content_type: &str, body: &[u8], token: Option<&str>) -> (u16, Vec<u8>) {
    let mut request = agent().post(url).header("Content-Type", content_type);
    if let Some(t) = token {
        request = request.header("Authorization", &format!("Bearer {t}"));
    }
    let mut response = request.send(body).expect("request sent");
    let status = response.status().as_u16();
    let mut bytes = Vec::new();
    let _ = response.body_mut().as_reader().read_to_end(&mut bytes);
    (status, bytes)
}

/// POST JSON; (status, parsed body).
pub fn post_json(url: &str, body: &Value) -> (u16, Value) {
    let (status, bytes) = post(url, "application/json", body.to_string().as_bytes(), None);
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{url} answered {status} with non-JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, value)
}

/// Asserts an OpenAI error object with `status`; returns its message.
pub fn assert_error(status: u16, body: &Value, expected: u16) -> String {
    assert_eq!(status, expected, "status; body: {body}");
    let error = &body["error"];
    for field in ["message", "type", "param", "code"] {
        assert!(error.get(field).is_some(), "error object lacks {field}: {body}");
    }
    error["message"]
        .as_str()
        .expect("message is a string")
        .to_string()
}

/// A raw HTTP/1.1 request on its own connection, for what clients libraries
/// hide: streams read by hand, disconnects, oversized bodies.
pub struct RawRequest {
    pub stream: TcpStream,
}

impl RawRequest {
    pub fn send(addr: &str, head: &str, body: &[u8]) -> Self {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.write_all(head.as_bytes()).expect("write head");
        // The server may answer and close before reading it all (413).
        let _ = stream.write_all(body);
        Self { stream }
    }

    pub fn post_json(addr: &str, path: &str, body: &Value) -> Self {
        let body = body.to_string();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        Self::send(addr, &head, body.as_bytes())
    }

    /// Reads until `needle` has arrived; returns everything read.
    pub fn read_until(&mut self, needle: &str) -> String {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = self.stream.read(&mut buf).expect("read");
            assert!(
                n > 0,
                "connection closed before {needle:?}: {}",
                String::from_utf8_lossy(&seen)
            );
            seen.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&seen).contains(needle) {
                return String::from_utf8_lossy(&seen).into_owned();
            }
        }
    }

    pub fn read_all(mut self) -> String {
        let mut out = Vec::new();
        let _ = self.stream.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// A config dir like the repository's, with `policies/limits.yaml` edited.
pub fn config_with_limits(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let repo = crate::common::repo();
    std::fs::create_dir_all(dir.join("policies")).expect("config dir");
    for file in [
        "models.yml",
        "profiles.yaml",
        "policies/routing.yaml",
        "policies/memory.yaml",
    ] {
        std::fs::copy(repo.join(file), dir.join(file)).expect("copy config");
    }
    let limits = std::fs::read_to_string(repo.join("policies/limits.yaml")).expect("limits");
    std::fs::write(dir.join("policies/limits.yaml"), edit(limits)).expect("write limits");
    dir.to_path_buf()
}
