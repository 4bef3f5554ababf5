//! The voice loop's test bench: a daemon listening on a private PipeWire
//! (a null sink `mic` is the microphone, `living` and `kitchen` are rooms),
//! requests spoken into `mic` (espeak-ng's wake word, Piper's question),
//! and the log lines that say what happened.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use super::pipewire::PipeWire;
use super::server::Server;
use super::{espeak, hauski_with_data, padded, write_wav_16k};

/// One daemon at a time: each test runs a real-time voice loop, and several
/// at once on two cores starve what is timed (partial transcripts while the
/// speaker talks), as a machine running six assistants would.
pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn start_daemon(pw: &PipeWire, data: &Path) -> Server {
    start_daemon_with(pw, data, &[])
}

pub fn start_daemon_with(pw: &PipeWire, data: &Path, extra: &[&str]) -> Server {
    // The shipped living-room profile plays to the default sink: `living` here.
    pw.set_default_sink("living");
    listening_daemon(pw, hauski_with_data(data), extra)
}

/// `cmd` as a daemon on `pw`, listening to `mic`, once its voice loop runs.
pub fn listening_daemon(pw: &PipeWire, mut cmd: std::process::Command, extra: &[&str]) -> Server {
    for (k, v) in pw.env() {
        cmd.env(k, v);
    }
    let server = Server::start(cmd, &[&["--source", "mic", "--source-monitor"], extra].concat());
    server.wait_for("the voice loop to listen", || {
        let log = server.log();
        log.contains("voice loop listening") && log.contains("capturing")
    });
    server
}

/// A private PipeWire with the rooms and the microphone, a folder for the
/// test's audio, and a daemon listening to `mic`; `name` keeps tests' folders apart.
pub fn daemon_in_rooms(name: &str) -> (PipeWire, PathBuf, Server) {
    let pw = PipeWire::start(&super::fresh_dir("pw"), &["kitchen", "living", "mic"]);
    let dir = super::fresh_dir(&format!("{name}-audio"));
    let server = start_daemon(&pw, &super::fresh_dir(&format!("{name}-data")));
    (pw, dir, server)
}

/// `text` in the Piper voice (what Whisper hears most reliably), 16 kHz.
pub fn piper(text: &str) -> Vec<i16> {
    let file = super::fresh_dir("say").join("say.wav");
    super::run_ok(super::hauski().args(["say", text, "--output"]).arg(&file));
    let samples = hauski_audio::load_mono(&file, 16_000).expect("say wrote a WAV");
    samples
        .iter()
        .map(|s| (s.clamp(-1.0, 1.0) * 32767.0) as i16)
        .collect()
}

/// "hey hauski" (espeak-ng) + a short pause + `question`
/// (Piper), as one 16 kHz WAV.
pub fn spoken_request(dir: &Path, name: &str, question: &str) -> PathBuf {
    let wake = espeak("hey hauski", "en-us", 160, 50);
    let pause = vec![0i16; 16_000 * 3 / 10];
    let question = piper(question);
    let samples = padded(&[wake, pause, question].concat(), 0.5);
    let path = dir.join(format!("{name}.wav"));
    write_wav_16k(&path, &samples);
    path
}

pub fn count(log: &str, needle: &str) -> usize {
    log.matches(needle).count()
}

/// The value of `field=` on the last log line holding `message`.
pub fn last_field(log: &str, message: &str, field: &str) -> String {
    log.lines()
        .rev()
        .find(|l| l.contains(message) && l.contains(&format!("{field}=")))
        .and_then(|l| l.split(&format!("{field}=")).nth(1))
        .map(|rest| rest.trim().to_string())
        .unwrap_or_default()
}

pub fn peak(file: &Path) -> f32 {
    let samples = hauski_audio::load_mono(file, 16_000).unwrap_or_default();
    samples.iter().fold(0.0f32, |m, s| m.max(s.abs()))
}

/// Plays a request into the microphone and waits until its answer has played.
pub fn ask(server: &Server, pw: &PipeWire, request: &Path) {
    let played_before = count(&server.log(), "answer played");
    pw.play("mic", request);
    server.wait_for("the answer to play", || {
        count(&server.log(), "answer played") > played_before
    });
}
