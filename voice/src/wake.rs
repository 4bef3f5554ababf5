//! Wake words with rustpotter, which runs in the `hauski-wake` helper process
//! (voice/wake-engine: its dependencies cannot share a lockfile with candle
//! 0.11, see ARCHITECTURE.md). This module speaks to it: enrolment, scanning
//! a recording, and a live stream of 16 kHz audio in, detections out.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};

use serde::Deserialize;

use crate::VoiceError;

/// How sure a detection must be (rustpotter's defaults, measured by the
/// wake-word tests: detections on unseen variants, false accepts on speech).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WakeSettings {
    pub threshold: f32,
    pub avg_threshold: f32,
    /// Frames in a row that must score before a detection counts.
    pub min_scores: usize,
    /// Report as soon as the score is high enough, not when it peaks: the
    /// live loop needs the wake word's end, where the question begins.
    pub eager: bool,
}

impl Default for WakeSettings {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            avg_threshold: 0.2,
            min_scores: 5,
            eager: false,
        }
    }
}

/// A detection, timed from the start of the audio fed in.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct WakeDetection {
    pub name: String,
    /// When the wake word was recognised (its end), in ms.
    pub timestamp_ms: u64,
    pub score: f32,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Line {
    Detection(WakeDetection),
    End {
        #[allow(dead_code, reason = "matched by shape: the end-of-input line")]
        end: bool,
    },
}

/// The helper program and the wake words it listens for.
#[derive(Debug, Clone)]
pub struct WakeEngine {
    program: PathBuf,
    words: Vec<(String, PathBuf)>,
    settings: WakeSettings,
}

fn engine_error(program: &Path, e: impl std::fmt::Display) -> VoiceError {
    VoiceError::Wake(format!(
        "cannot run {}: {e}; build it with `cargo build --manifest-path voice/wake-engine/Cargo.toml --target-dir target` or set HAUSKI_WAKE_ENGINE",
        program.display()
    ))
}

impl WakeEngine {
    pub fn new(
        program: PathBuf,
        words: Vec<(String, PathBuf)>,
        settings: WakeSettings,
    ) -> Result<Self, VoiceError> {
        if !program.is_file() {
            return Err(engine_error(&program, "no such file"));
        }
        for (_, file) in &words {
            if !file.is_file() {
                return Err(VoiceError::ModelMissing {
                    path: file.clone(),
                    hint: "hey-hauski (or enrol one with `hauski wake enrol`)".into(),
                });
            }
        }
        if words.is_empty() {
            return Err(VoiceError::Wake("no wake word to listen for".into()));
        }
        Ok(Self {
            program,
            words,
            settings,
        })
    }

    /// The same engine with other settings (the live loop reports eagerly).
    pub fn with_settings(mut self, settings: WakeSettings) -> Self {
        self.settings = settings;
        self
    }

    pub fn settings(&self) -> WakeSettings {
        self.settings
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.words.iter().map(|(n, _)| n.as_str())
    }

    fn spawn(&self) -> Result<Child, VoiceError> {
        let mut command = Command::new(&self.program);
        command
            .arg("detect")
            .args(["--threshold", &self.settings.threshold.to_string()])
            .args(["--avg-threshold", &self.settings.avg_threshold.to_string()])
            .args(["--min-scores", &self.settings.min_scores.to_string()])
            .args(if self.settings.eager {
                &["--eager"][..]
            } else {
                &[][..]
            })
            .args(self.words.iter().map(|(n, f)| format!("{n}={}", f.display())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.spawn().map_err(|e| engine_error(&self.program, e))
    }

    /// Every detection in a recording (16 kHz mono).
    pub fn scan(&self, samples: &[f32]) -> Result<Vec<WakeDetection>, VoiceError> {
        let _span = tracing::debug_span!("wake_scan", samples = samples.len()).entered();
        let mut child = self.spawn()?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| engine_error(&self.program, "no stdin"))?;
        let bytes = to_bytes(samples);
        // Written from a thread: the child answers while it reads, and a full
        // stdout pipe would otherwise deadlock both.
        let writer = std::thread::spawn(move || {
            let mut stdin = stdin;
            let _ = stdin.write_all(&bytes);
        });
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| engine_error(&self.program, "no stdout"))?;
        let mut found = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| engine_error(&self.program, e))?;
            match serde_json::from_str::<Line>(&line) {
                Ok(Line::Detection(d)) => found.push(d),
                Ok(Line::End { .. }) => break,
                Err(e) => {
                    return Err(engine_error(
                        &self.program,
                        format!("unexpected output {line:?}: {e}"),
                    ));
                }
            }
        }
        let _ = writer.join();
        finish(&self.program, child)?;
        Ok(found)
    }

    /// A live detector: push audio as it arrives, detections come on a channel.
    pub fn stream(&self) -> Result<WakeStream, VoiceError> {
        let mut child = self.spawn()?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| engine_error(&self.program, "no stdin"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| engine_error(&self.program, "no stdout"))?;
        let last_error = Arc::new(Mutex::new(String::new()));
        if let Some(stderr) = child.stderr.take() {
            let last = last_error.clone();
            // Read, or the helper blocks once the pipe is full; logged, so a
            // helper that dies says why.
            std::thread::Builder::new()
                .name("wake-stderr".into())
                .spawn(move || {
                    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                        tracing::warn!(target: "hauski_wake", "{line}");
                        *last.lock().unwrap_or_else(|p| p.into_inner()) = line;
                    }
                })
                .map_err(|e| engine_error(&self.program, e))?;
        }
        let (tx, detections) = mpsc::channel();
        std::thread::Builder::new()
            .name("wake-read".into())
            .spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Ok(Line::Detection(d)) = serde_json::from_str::<Line>(&line)
                        && tx.send(d).is_err()
                    {
                        break;
                    }
                }
            })
            .map_err(|e| engine_error(&self.program, e))?;
        Ok(WakeStream {
            child,
            stdin: Some(stdin),
            detections,
            last_error,
        })
    }

    /// Makes a wake-word reference from ≥ 3 WAV recordings of the phrase.
    pub fn enrol(program: &Path, name: &str, samples: &[PathBuf], out: &Path) -> Result<(), VoiceError> {
        if samples.len() < 3 {
            return Err(VoiceError::Wake(format!(
                "{} sample(s) given; enrol from at least 3 recordings of the wake word",
                samples.len()
            )));
        }
        let output = Command::new(program)
            .arg("enrol")
            .args(["--name", name])
            .arg("--out")
            .arg(out)
            .args(samples)
            .output()
            .map_err(|e| engine_error(program, e))?;
        if !output.status.success() {
            return Err(VoiceError::Wake(
                String::from_utf8_lossy(&output.stderr)
                    .trim()
                    .trim_start_matches("error: ")
                    .to_string(),
            ));
        }
        Ok(())
    }
}

fn to_bytes(samples: &[f32]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

fn finish(program: &Path, mut child: Child) -> Result<(), VoiceError> {
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let status = child.wait().map_err(|e| engine_error(program, e))?;
    if !status.success() {
        return Err(VoiceError::Wake(
            stderr.trim().trim_start_matches("error: ").to_string(),
        ));
    }
    Ok(())
}

/// One live detector process.
pub struct WakeStream {
    child: Child,
    stdin: Option<ChildStdin>,
    pub detections: mpsc::Receiver<WakeDetection>,
    /// The helper's last line on stderr.
    last_error: Arc<Mutex<String>>,
}

impl WakeStream {
    pub fn push(&mut self, samples: &[f32]) -> Result<(), VoiceError> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| VoiceError::Wake("the wake-word stream is closed".into()))?;
        stdin.write_all(&to_bytes(samples)).map_err(|e| {
            let said = self.last_error.lock().unwrap_or_else(|p| p.into_inner()).clone();
            let status = self
                .child
                .try_wait()
                .ok()
                .flatten()
                .map_or_else(|| "is not reading".to_string(), |s| format!("exited ({s})"));
            VoiceError::Wake(if said.is_empty() {
                format!("the wake-word helper {status}: {e}")
            } else {
                format!("the wake-word helper {status}: {said}")
            })
        })
    }

    /// Ends the input: the helper finishes what it was given, sends its
    /// last detections and exits, which closes `detections`.
    pub fn close_input(&mut self) {
        drop(self.stdin.take());
    }

    /// The helper's process id (for supervision and tests).
    pub fn id(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for WakeStream {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
