//! Timers and lists as people use them: a timer set by voice on a private
//! PipeWire rings aloud (a chime, then its words, read back by ASR from the
//! room's sink) in the room it was set in, even after answers moved to
//! another room, until "stop"; lists are read and changed over the API.
//! (A list changed by speech through Home Assistant's conversation stage,
//! then read over the API: `wyoming_serves_home_assistant.rs`.)

use crate::common;

use std::path::Path;

use crate::common::pipewire::PipeWire;
use crate::common::server::{Server, get, post_json};
use crate::common::voice::{ask, count, last_field, listening_daemon, one_at_a_time, spoken_request};
use crate::common::{fresh_dir, hauski, hauski_with_data, normalize, require_gemma, transcribe};
use serde_json::{Value, json};

/// A config dir whose alarms ring every 3 s (20 s in the shipped policy),
/// so a test hears a repeat without waiting long.
fn quick_alarms() -> std::path::PathBuf {
    let config = fresh_dir("alarm-config");
    std::fs::create_dir_all(config.join("policies")).expect("policies dir");
    std::fs::write(
        config.join("policies/skills.yaml"),
        "alarms:\n  repeat_every_s: 3\n  max_rings: 20\n",
    )
    .expect("skills policy");
    config
}

/// The strongest 20 ms of the chime's first note (E6, 1318.5 Hz) in
/// `file`, as an amplitude (Goertzel).
fn chime_level(file: &Path) -> f32 {
    let rate = 16_000.0;
    let samples = hauski_audio::load_mono(file, 16_000).expect("the recording decodes");
    let window = 320;
    let coefficient = 2.0 * (std::f32::consts::TAU * 1318.5 / rate).cos();
    samples
        .chunks(window)
        .map(|chunk| {
            let (mut s1, mut s2) = (0.0f32, 0.0f32);
            for &x in chunk {
                let s0 = x + coefficient * s1 - s2;
                s2 = s1;
                s1 = s0;
            }
            let power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
            2.0 * power.max(0.0).sqrt() / chunk.len() as f32
        })
        .fold(0.0, f32::max)
}

#[test]
fn a_spoken_timer_rings_aloud_in_its_room_until_stop() {
    let _serial = one_at_a_time();
    require_gemma();
    let pw = PipeWire::start(&fresh_dir("pw"), &["kitchen", "living", "mic"]);
    let dir = fresh_dir("timer-audio");
    pw.set_default_sink("living");
    let mut cmd = hauski_with_data(&fresh_dir("timer-data"));
    cmd.env("HAUSKI_CONFIG", quick_alarms());
    let server = listening_daemon(&pw, cmd, &[]);
    let recording = pw.record("living", &dir.join("living.wav"));
    let kitchen_recording = pw.record("kitchen", &dir.join("kitchen.wav"));

    // Set in the living room (wohnzimmer plays on the default sink, `living`) ...
    ask(
        &server,
        &pw,
        &spoken_request(&dir, "timer", "Set a timer for ten seconds."),
    );
    assert_eq!(
        last_field(&server.log(), "answer", "answer"),
        "Okay, a 10-second timer, starting now.",
        "{}",
        server.log()
    );
    // ... then answers move to the kitchen before it rings.
    let (status, body) = post_json(&server.url("/audio/profile"), &json!({"profile": "kueche"}));
    assert_eq!(status, 200, "{body}");
    server.wait_for("the timer to ring a second time", || {
        server
            .log()
            .lines()
            .any(|l| l.contains("alarm rings") && l.contains("ring=2"))
    });

    pw.play("mic", &spoken_request(&dir, "stop", "Stop."));
    // Its spoken acknowledgement too: played out after the next question's
    // playback count was taken, it would pass for that question's answer.
    server.wait_for("the alarm to be stopped and that said", || {
        let log = server.log();
        log.find("alarms stopped")
            .is_some_and(|at| log[at..].contains("answer played"))
    });
    // The next turn takes longer than a ring's interval: a ringing alarm would ring in it.
    ask(
        &server,
        &pw,
        &spoken_request(&dir, "left", "How much time is left?"),
    );
    let log = server.log();
    assert_eq!(
        last_field(&log, "answer", "answer"),
        "No timer is running.",
        "{log}"
    );
    let after_stop = &log[log.find("alarms stopped").unwrap_or(0)..];
    assert_eq!(count(after_stop, "alarm rings"), 0, "it rang after stop:\n{log}");

    let living = recording.stop();
    let heard = normalize(&transcribe(&living)).join(" ");
    assert!(
        heard.contains("timer is done"),
        "the ring's words, read back: {heard:?}"
    );
    let chime = chime_level(&living);
    assert!(
        chime > 0.05,
        "the chime's first note is at {chime} in the living room"
    );
    // The kitchen heard the answer about the time left, not the alarm.
    let kitchen = kitchen_recording.stop();
    let heard_in_kitchen = normalize(&transcribe(&kitchen)).join(" ");
    assert!(
        heard_in_kitchen.contains("no timer") && !heard_in_kitchen.contains("is done"),
        "the kitchen, read back: {heard_in_kitchen:?}"
    );
    let kitchen_chime = chime_level(&kitchen);
    assert!(
        kitchen_chime < chime / 2.0,
        "a chime at {kitchen_chime} in the kitchen (the living room's was {chime})"
    );
}

#[test]
fn the_lists_api_adds_reads_and_removes_items() {
    require_gemma();
    let server = Server::start(hauski(), &[]);
    let url = |path: &str| server.url(path);
    let (status, body) = post_json(
        &url("/lists/shopping"),
        &json!({"items": ["oat milk", " eggs  "]}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"list": "shopping", "items": ["oat milk", "eggs"]}));
    // "grocery" is the shopping list, as when spoken.
    let (status, body) = get(&url("/lists/Grocery"), None);
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["items"], json!(["oat milk", "eggs"]));

    let (status, body) = common::server::delete(&url("/lists/shopping/items/eggs"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"], json!(["oat milk"]));
    let (status, body) = common::server::delete(&url("/lists/shopping/items/eggs"));
    let message = common::server::assert_error(status, &body, 404);
    assert!(message.contains("eggs"), "{message}");

    let (status, body) = post_json(&url("/lists/shopping"), &json!({"items": []}));
    common::server::assert_error(status, &body, 400);
    let (status, body) = post_json(&url("/lists/shopping"), &json!({"item": "bread"}));
    common::server::assert_error(status, &body, 400);
    let (status, body) = get(&url("/lists/empty"), None);
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("JSON")["items"],
        json!([])
    );
}
