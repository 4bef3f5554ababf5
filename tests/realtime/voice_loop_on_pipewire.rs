//! `hauski serve` listening on a real (private) PipeWire: a null sink `mic`
//! is the microphone (the daemon records its monitor), `living` and `kitchen`
//! are rooms. Questions are synthesised by espeak-ng, played into `mic`, and
//! what reaches each room is recorded from its monitor and read back by ASR.

use crate::common;

use crate::common::pipewire::PipeWire;
use crate::common::server::{Server, get, post_json};
use crate::common::voice::{
    ask, count, daemon_in_rooms, last_field, listening_daemon, one_at_a_time, peak, piper, spoken_request,
    start_daemon,
};
use crate::common::{espeak, hauski_with_data, padded, require_gemma, wer, write_wav_16k};
use hauski_audio::live::monitor::MonitorTrace;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Silence at a sink this long after a barge-in is playback stopped.
const STOPPED_FOR: Duration = Duration::from_secs(1);

#[test]
fn answers_play_on_the_active_profile_sink_and_switch_by_voice() {
    let _serial = one_at_a_time();
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
        wer("what is the capital of France", &heard) <= 0.4,
        "heard {heard:?}\n{log}"
    );
    assert!(
        log.contains("partial transcript"),
        "no partial transcripts:\n{log}"
    );
    assert_events_in_order(&log);
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
    // Every stage of the turn was timed into its histogram on /metrics.
    for stage in [
        "wake",
        "vad_end",
        "asr",
        "retrieval",
        "llm_first_token",
        "tts_first_audio",
        "speech_end_to_first_audio",
    ] {
        let count = server.metric(&format!(
            "hauski_stage_duration_seconds_count{{stage=\"{stage}\"}}"
        ));
        assert!(count >= 1.0, "no {stage} duration on /metrics");
    }
    assert!(server.metric("hauski_llm_tokens_per_second_count") >= 1.0);

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

/// The bus told the turn as it happened: the wake word, a partial
/// transcript while the question was spoken, the final one, then the
/// answer's sentences as they played and the turn's end. (Where
/// transcribing is slow, the question's first partial may finish just
/// after the final one: only the first is held to its place.)
fn assert_events_in_order(log: &str) {
    let subjects: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split(" subject=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    let first = |subject: &str| subjects.iter().position(|s| *s == subject);
    let (Some(wake), Some(partial), Some(heard), Some(sentence), Some(end)) = (
        first("hauski.wake"),
        first("hauski.asr.partial"),
        first("hauski.asr.final"),
        first("hauski.turn.sentence"),
        first("hauski.turn.end"),
    ) else {
        panic!("events missing from the bus: {subjects:?}");
    };
    assert!(
        wake < partial && partial < heard && heard < sentence && heard < end,
        "events out of order: {subjects:?}"
    );
}

fn wake_word_only(dir: &Path) -> PathBuf {
    let path = dir.join("wake.wav");
    write_wav_16k(&path, &padded(&espeak("hey hauski", "en-us", 160, 50), 0.3));
    path
}

fn question_only(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(format!("{name}.wav"));
    write_wav_16k(&path, &padded(&piper(text), 0.3));
    path
}

/// Asks for a long answer and returns once its first audio is playing.
fn start_long_answer(server: &Server, pw: &PipeWire, dir: &Path) {
    let queued = count(&server.log(), "first answer audio queued");
    pw.play(
        "mic",
        &spoken_request(
            dir,
            "story",
            "tell me a long story about a brave knight and a dragon",
        ),
    );
    server.wait_for("the long answer to start", || {
        count(&server.log(), "first answer audio queued") > queued
    });
}

#[test]
fn the_wake_word_interrupts_an_answer_and_the_next_question_is_answered() {
    let _serial = one_at_a_time();
    require_gemma();
    let (pw, dir, server) = daemon_in_rooms("barge");
    // Everything the person says is ready before they start: on a slow
    // machine, making it between the wake word and the question took longer
    // than the loop listens after a wake word.
    let wake = wake_word_only(&dir);
    let question = question_only(&dir, "after", "what is the capital of France");
    // The word's end at the microphone and the silence at the sink, both
    // from the monitors (not from the daemon's log).
    let mic = MonitorTrace::start(&pw, "mic", 16_000, 0.02).expect("the mic's monitor");
    let living = MonitorTrace::start(&pw, "living", 16_000, 0.02).expect("the living room's monitor");
    start_long_answer(&server, &pw, &dir);

    let sent = Instant::now();
    pw.play("mic", &wake);
    let onset = mic
        .first_loud_after(sent)
        .expect("the wake word reached the microphone");
    let wake_end = mic.last_loud_after(sent).unwrap_or(onset);
    server.wait_for("barge-in", || server.log().contains("barge-in: playback stopped"));
    server.wait_for("the living room to fall silent", || {
        living.first_quiet_after(wake_end, STOPPED_FOR).is_some()
    });
    // The silence that lasts, from the word's start (sentence gaps are
    // shorter); a stop before the word ended counts as 0.
    let quiet = living.first_quiet_after(onset, STOPPED_FOR).unwrap_or(wake_end);
    let latency_ms = quiet.saturating_duration_since(wake_end).as_secs_f64() * 1000.0;
    println!("wake-word end → silence at the sink: {latency_ms:.0} ms");
    // The bench holds the 150 ms target; a CPU 5× slower must pass here.
    assert!(latency_ms < 750.0, "barge-in took {latency_ms:.0} ms at the sink");
    // The person asks right away, as they would: the barge-in wake word
    // opened listening, so the question needs no second one.
    let played = count(&server.log(), "answer played");
    pw.play("mic", &question);
    server.wait_for("the next answer", || {
        count(&server.log(), "answer played") > played
    });

    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.contains("barge-in: playback stopped"))
        .unwrap_or_default();
    let dropped: f64 = last_field(&log, "barge-in", "dropped_s")
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    assert!(
        dropped > 0.5,
        "barge-in dropped only {dropped} s of answer: {line}"
    );
    let heard = last_field(&log, "heard", "transcript");
    assert!(
        wer("what is the capital of France", &heard) <= 0.4,
        "heard {heard:?}"
    );
}

#[test]
fn a_sink_that_vanishes_mid_answer_does_not_stop_the_daemon() {
    let _serial = one_at_a_time();
    require_gemma();
    let (pw, dir, server) = daemon_in_rooms("vanish");
    // A profile with a named sink (the living-room one follows the default).
    let (status, body) = post_json(&server.url("/audio/profile"), &json!({"profile": "kueche"}));
    assert_eq!(status, 200, "{body}");
    server.wait_for("playback to move to the kitchen", || {
        server.log().contains("playing to sink sink=kitchen")
    });
    start_long_answer(&server, &pw, &dir);

    pw.remove_node("kitchen");
    server.wait_for("the lost sink to be logged", || {
        server.log().contains("sink vanished")
    });
    server.assert_alive();

    pw.create_sink("kitchen");
    server.wait_for("the sink to come back", || {
        server.log().contains("the sink is back")
    });
    let kitchen = pw.record("kitchen", &dir.join("kitchen.wav"));
    ask(
        &server,
        &pw,
        &spoken_request(&dir, "capital", "what is the capital of France"),
    );
    let heard_in_kitchen = common::transcribe(&kitchen.stop());
    let answer = last_field(&server.log(), "answer", "answer");
    assert!(
        wer(&answer, &heard_in_kitchen) <= 0.4,
        "the kitchen heard {heard_in_kitchen:?}; the answer was {answer:?}"
    );
}

#[test]
fn a_profile_naming_a_missing_sink_is_heard_on_the_default_sink() {
    let _serial = one_at_a_time();
    require_gemma();
    let pw = PipeWire::start(&common::fresh_dir("pw"), &["kitchen", "living", "mic"]);
    let dir = common::fresh_dir("attic-audio");
    // This machine has no `attic`: the profile was written for another.
    let config = common::fresh_dir("attic-config");
    let profiles = std::fs::read_to_string(common::repo().join("profiles.yaml"))
        .expect("profiles.yaml")
        .replacen("sink: default", "sink: attic", 1);
    std::fs::write(config.join("profiles.yaml"), profiles).expect("write profiles.yaml");
    pw.set_default_sink("kitchen");
    let mut cmd = hauski_with_data(&common::fresh_dir("attic-data"));
    cmd.env("HAUSKI_CONFIG", &config);
    let server = listening_daemon(&pw, cmd, &[]);
    server.wait_for("the missing sink to be named", || {
        server.log().contains("the profile's sink does not exist here")
    });
    assert!(server.log().contains("sink=attic"), "{}", server.log());

    let kitchen = pw.record("kitchen", &dir.join("kitchen.wav"));
    ask(
        &server,
        &pw,
        &spoken_request(&dir, "capital", "what is the capital of France"),
    );
    let heard = common::transcribe(&kitchen.stop());
    let answer = last_field(&server.log(), "answer", "answer");
    assert!(
        wer(&answer, &heard) <= 0.4,
        "the default sink heard {heard:?}; the answer was {answer:?}"
    );
}

/// `samples` without the near-silence at either end.
fn trimmed(samples: &[i16]) -> Vec<i16> {
    let loud = |s: &i16| s.unsigned_abs() > 300;
    let start = samples.iter().position(loud).unwrap_or(0);
    let end = samples.iter().rposition(loud).map_or(start, |e| e + 1);
    samples[start..end].to_vec()
}

#[test]
fn a_pause_mid_question_is_not_taken_for_its_end() {
    let _serial = one_at_a_time();
    require_gemma();
    let (pw, dir, server) = daemon_in_rooms("pause");
    // "What is the capital … of France?": a pause long enough to start a
    // speculative answer (120 ms) and shorter than the hang-over (600 ms).
    let wake = espeak("hey hauski", "en-us", 160, 50);
    let gap = vec![0i16; 16_000 * 3 / 10];
    let pause = vec![0i16; 16_000 * 35 / 100];
    let samples = [
        wake,
        gap,
        trimmed(&piper("What is the capital")),
        pause,
        trimmed(&piper("of France?")),
    ]
    .concat();
    let request = dir.join("paused.wav");
    write_wav_16k(&request, &padded(&samples, 0.5));
    ask(&server, &pw, &request);

    let log = server.log();
    assert!(
        log.contains("speculative answer abandoned"),
        "the pause started no speculative answer:\n{log}"
    );
    assert_eq!(count(&log, " heard transcript="), 1, "{log}");
    let heard = last_field(&log, "heard", "transcript");
    assert!(
        heard.to_lowercase().contains("france"),
        "answered the first half only: heard {heard:?}"
    );
    assert_eq!(count(&log, "first answer audio queued"), 1, "{log}");
}

#[test]
fn never_mind_is_acknowledged_not_answered() {
    let _serial = one_at_a_time();
    require_gemma();
    let (pw, dir, server) = daemon_in_rooms("dismiss");
    ask(&server, &pw, &spoken_request(&dir, "never", "never mind"));
    let answer = last_field(&server.log(), "answer", "answer");
    assert_eq!(answer, "Okay.", "{}", server.log());
}

#[test]
fn audio_sinks_lists_the_sinks_the_default_and_where_each_profile_plays() {
    let pw = PipeWire::start(&common::fresh_dir("pw"), &["kitchen", "living", "mic"]);
    pw.set_default_sink("living");
    let mut cmd = common::hauski();
    for (k, v) in pw.env() {
        cmd.env(k, v);
    }
    let out = common::run_ok(cmd.args(["audio", "sinks", "--json"]));
    let listed: Value = serde_json::from_str(&out).expect("JSON");
    let names: Vec<&str> = listed["sinks"]
        .as_array()
        .expect("sinks")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["kitchen", "living", "mic"], "{listed}");
    assert_eq!(listed["default"], "living", "{listed}");
    // The living-room profile follows the default; the kitchen one names
    // its sink; headphones are not on this machine: the default plays.
    assert_eq!(listed["profiles"]["wohnzimmer"]["plays_to"], "living");
    assert_eq!(listed["profiles"]["kueche"]["plays_to"], "kitchen");
    assert_eq!(listed["profiles"]["kopfhoerer"]["sink"], "headphones");
    assert_eq!(listed["profiles"]["kopfhoerer"]["plays_to"], "living");
}
