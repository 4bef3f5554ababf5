//! `hauski serve` listening on a real (private) PipeWire: a null sink `mic`
//! is the microphone (the daemon records its monitor), `living` and `kitchen`
//! are rooms. Questions are synthesised by espeak-ng, played into `mic`, and
//! what reaches each room is recorded from its monitor and read back by ASR.

mod common;

use common::pipewire::PipeWire;
use common::server::{Server, get, post_json};
use common::{espeak, hauski_with_data, padded, require_gemma, wer, write_wav_16k};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn start_daemon(pw: &PipeWire, data: &Path) -> Server {
    let mut cmd = hauski_with_data(data);
    for (k, v) in pw.env() {
        cmd.env(k, v);
    }
    let server = Server::start(cmd, &["--source", "mic", "--source-monitor"]);
    server.wait_for("the voice loop to listen", || {
        let log = server.log();
        log.contains("voice loop listening") && log.contains("capturing")
    });
    server
}

/// "hey hauski" + a short pause + `question`, as one 16 kHz WAV.
fn spoken_request(dir: &Path, name: &str, question: &str) -> PathBuf {
    let wake = espeak("hey hauski", "en-us", 160, 50);
    let pause = vec![0i16; 16_000 * 3 / 10];
    let question = espeak(question, "en-us", 160, 50);
    let samples = padded(&[wake, pause, question].concat(), 0.5);
    let path = dir.join(format!("{name}.wav"));
    write_wav_16k(&path, &samples);
    path
}

fn count(log: &str, needle: &str) -> usize {
    log.matches(needle).count()
}

/// The value of `field=` on the last log line holding `message`.
fn last_field(log: &str, message: &str, field: &str) -> String {
    log.lines()
        .rev()
        .find(|l| l.contains(message) && l.contains(&format!("{field}=")))
        .and_then(|l| l.split(&format!("{field}=")).nth(1))
        .map(|rest| rest.trim().to_string())
        .unwrap_or_default()
}

fn peak(file: &Path) -> f32 {
    let samples = hauski_audio::load_mono(file, 16_000).unwrap_or_default();
    samples.iter().fold(0.0f32, |m, s| m.max(s.abs()))
}

/// Plays a request into the microphone and waits until its answer has played.
fn ask(server: &Server, pw: &PipeWire, request: &Path) {
    let played_before = count(&server.log(), "answer played");
    pw.play("mic", request);
    server.wait_for("the answer to play", || {
        count(&server.log(), "answer played") > played_before
    });
}

#[test]
fn answers_play_on_the_active_profile_sink_and_switch_by_voice() {
    require_gemma();
    let pw = PipeWire::start(&common::fresh_dir("pw"), &["kitchen", "living", "mic"]);
    let data = common::fresh_dir("voice-data");
    let dir = common::fresh_dir("voice-audio");
    let server = start_daemon(&pw, &data);

    // The default profile (wohnzimmer) plays to `living`.
    let living = pw.record("living", &dir.join("living-1.wav"));
    let kitchen = pw.record("kitchen", &dir.join("kitchen-1.wav"));
    ask(
        &server,
        &pw,
        &spoken_request(&dir, "capital", "what is the capital of France"),
    );
    let (living, kitchen) = (living.stop(), kitchen.stop());
    let log = server.log();
    let heard = last_field(&log, "heard", "transcript");
    assert!(
        wer("what is the capital of France", &heard) <= 0.2,
        "heard {heard:?}\n{log}"
    );
    assert!(
        log.contains("partial transcript"),
        "no partial transcripts:\n{log}"
    );
    let answer = last_field(&log, "answer", "answer");
    let played = common::transcribe(&living);
    assert!(
        wer(&answer, &played) <= 0.4,
        "the living room heard {played:?}, the answer was {answer:?}"
    );
    assert!(
        peak(&kitchen) < 0.001,
        "the kitchen heard something ({})",
        peak(&kitchen)
    );

    // "switch to the kitchen profile": confirmed on the kitchen sink only.
    let living = pw.record("living", &dir.join("living-2.wav"));
    let kitchen = pw.record("kitchen", &dir.join("kitchen-2.wav"));
    ask(
        &server,
        &pw,
        &spoken_request(&dir, "switch", "switch to the kitchen profile"),
    );
    let (living, kitchen) = (living.stop(), kitchen.stop());
    let confirmation = common::transcribe(&kitchen).to_lowercase();
    assert!(
        confirmation.contains("kitchen")
            || confirmation.contains("kueche")
            || confirmation.contains("switched"),
        "the kitchen heard {confirmation:?}"
    );
    assert!(
        peak(&living) < 0.001,
        "the living room heard the confirmation ({})",
        peak(&living)
    );
    let (_, body) = get(&server.url("/audio/profile"), None);
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["profile"], "kueche");
    let shown = common::run_ok(
        hauski_with_data(&data)
            .env("HAUSKI_API", &server.base)
            .args(["profile", "show"]),
    );
    assert!(shown.starts_with("kueche"), "{shown}");

    // An unknown profile is refused aloud, and nothing changes.
    ask(
        &server,
        &pw,
        &spoken_request(&dir, "garage", "switch to the garage profile"),
    );
    assert!(
        server.log().contains("unknown profile asked for"),
        "{}",
        server.log()
    );

    // After a restart the daemon is still in the kitchen.
    drop(server);
    let server = start_daemon(&pw, &data);
    let (_, body) = get(&server.url("/audio/profile"), None);
    assert!(body.contains("\"profile\":\"kueche\""), "{body}");

    // And the CLI switches it back through the running daemon.
    common::run_ok(hauski_with_data(&data).env("HAUSKI_API", &server.base).args([
        "profile",
        "set",
        "living room",
    ]));
    let (status, body) = post_json(&server.url("/audio/profile"), &json!({"profile": "wohnzimmer"}));
    assert_eq!(status, 200, "{body}");
}
