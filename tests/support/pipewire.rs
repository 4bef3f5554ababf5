//! A private PipeWire for tests (`hauski_audio::live::lab`), with recording
//! and playing through PipeWire's own tools.

#![allow(dead_code)]

#[path = "child.rs"]
pub mod child;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The audio crate's lab, plus what only tests need: recording a sink's
/// monitor with pw-record and playing files with pw-play.
pub struct PipeWire {
    lab: hauski_audio::live::lab::PipeWireLab,
}

impl std::ops::Deref for PipeWire {
    type Target = hauski_audio::live::lab::PipeWireLab;
    fn deref(&self) -> &Self::Target {
        &self.lab
    }
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl PipeWire {
    pub fn start(runtime: &Path, sinks: &[&str]) -> Self {
        let lab =
            hauski_audio::live::lab::PipeWireLab::start(runtime, sinks).unwrap_or_else(|e| panic!("{e}"));
        Self { lab }
    }

    pub fn restart_pipewire(&mut self, sinks: &[&str]) {
        self.lab.restart_pipewire(sinks).unwrap_or_else(|e| panic!("{e}"));
    }

    pub fn create_sink(&self, name: &str) {
        self.lab.create_sink(name).unwrap_or_else(|e| panic!("{e}"));
    }

    pub fn set_default_sink(&self, name: &str) {
        self.lab.set_default_sink(name).unwrap_or_else(|e| panic!("{e}"));
    }

    pub fn remove_node(&self, name: &str) {
        self.lab.remove_node(name).unwrap_or_else(|e| panic!("{e}"));
    }

    /// `pw-link -l`: every link as "node:port -> node:port" lines.
    pub fn links(&self) -> String {
        let out = self
            .lab
            .command("pw-link")
            .arg("-l")
            .output()
            .expect("pw-link runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Records what reaches `sink` (its monitor) at 16 kHz mono until stopped.
    pub fn record(&self, sink: &str, file: &Path) -> Recording {
        let child = self
            .lab
            .command("pw-record")
            .args([
                "--target",
                sink,
                "-P",
                "{ stream.capture.sink=true }",
                "--rate",
                "16000",
                "--channels",
                "1",
            ])
            .arg(file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pw-record runs");
        let recording = Recording {
            child: child::Running::new(child),
            file: file.to_path_buf(),
        };
        wait_until("pw-record to be linked", || self.links().contains("pw-record"));
        recording
    }

    /// Plays `file` to `target` in the background, as a music player would;
    /// the player stops when the returned child is dropped.
    pub fn play_in_background(&self, target: &str, file: &Path) -> child::Running {
        child::Running::new(
            self.lab
                .command("pw-play")
                .args(["--target", target])
                .arg(file)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("pw-play runs"),
        )
    }

    /// Plays a WAV into `target` and waits for the end.
    pub fn play(&self, target: &str, file: &Path) {
        let status = self
            .lab
            .command("pw-play")
            .args(["--target", target])
            .arg(file)
            .status()
            .expect("pw-play runs");
        assert!(status.success(), "pw-play {} failed", file.display());
    }
}

/// A pw-record in progress; dropped without `stop`, it is killed.
pub struct Recording {
    child: child::Running,
    pub file: PathBuf,
}

impl Recording {
    /// Stops recording (SIGINT lets pw-record finish the WAV header); returns the file.
    pub fn stop(mut self) -> PathBuf {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        self.file.clone()
    }
}
