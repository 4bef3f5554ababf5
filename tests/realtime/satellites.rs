//! A satellite in the hall and the main HausKI, each on its own private
//! PipeWire, joined by a real `nats-server`: a question played into the
//! satellite's microphone is answered on the satellite's sink (read back
//! through Whisper) and nowhere in the main's rooms, and a profile switch
//! there changes the hall's profile only; with NATS gone the satellite says
//! it cannot reach the main, and after NATS is back the next question is
//! answered again; the wake word while it speaks stops it. A wake word heard
//! by two satellites is answered once, in the room that heard it loudest.

use crate::common;
use crate::common::nats::Nats;
use crate::common::pipewire::PipeWire;
use crate::common::satellite::Satellite;
use crate::common::server::get;
use crate::common::voice::{count, last_field, one_at_a_time, peak, spoken_request, start_daemon_with};
use crate::common::{require_gemma, wer};
use std::path::Path;

/// Plays `request` into the satellite's microphone; waits until its answer played.
fn ask(satellite: &Satellite, pw: &PipeWire, request: &Path) {
    let played = count(&satellite.log(), "answer played");
    pw.play("mic", request);
    satellite.wait_for("the satellite to play the answer", |log| {
        count(log, "answer played") > played
    });
}

#[test]
fn satellite_questions_are_answered_in_its_room_across_a_nats_restart() {
    let _serial = one_at_a_time();
    require_gemma();
    let mut nats = Nats::start();
    let main_pw = PipeWire::start(&common::fresh_dir("pw-main"), &["kitchen", "living", "mic"]);
    let main = start_daemon_with(
        &main_pw,
        &common::fresh_dir("satellite-main-data"),
        &["--bus", &nats.url()],
    );
    let hall_pw = PipeWire::start(&common::fresh_dir("pw-hall"), &["hall", "mic"]);
    hall_pw.set_default_sink("hall");
    let satellite = Satellite::start(
        &hall_pw,
        &common::fresh_dir("satellite-data"),
        &nats.url(),
        "hall",
    );
    satellite.wait_for("the main's heartbeat", |log| {
        log.contains("the main HausKI answers")
    });
    let dir = common::fresh_dir("satellite-audio");

    // A spoken command in the hall: heard by the main, confirmed in the
    // hall only, and it changes the hall's profile, not the main's.
    let hall = hall_pw.record("hall", &dir.join("hall-1.wav"));
    let living = main_pw.record("living", &dir.join("living-1.wav"));
    let kitchen = main_pw.record("kitchen", &dir.join("kitchen-1.wav"));
    ask(
        &satellite,
        &hall_pw,
        &spoken_request(&dir, "night", "switch to the night profile"),
    );
    let (hall, living, kitchen) = (hall.stop(), living.stop(), kitchen.stop());
    let log = main.log();
    let heard = last_field(&log, "satellite question", "transcript");
    assert!(
        wer("switch to the night profile", &heard) <= 0.4,
        "the main heard {heard:?}\n{log}"
    );
    assert!(
        log.contains("satellite turn goes to the loudest room room=hall"),
        "{log}"
    );
    let confirmation = common::transcribe(&hall).to_lowercase();
    assert!(
        confirmation.contains("night") && confirmation.contains("hall"),
        "the hall heard {confirmation:?}"
    );
    for (room, file) in [("living room", &living), ("kitchen", &kitchen)] {
        assert!(
            peak(file) < 0.001,
            "the main's {room} heard something ({})",
            peak(file)
        );
    }
    let (_, body) = get(&main.url("/audio/profile"), None);
    assert!(body.contains("\"profile\":\"wohnzimmer\""), "{body}");
    // The satellite reported the turn's timing; the main keeps it as stages.
    main.wait_for("the satellite's timing on /metrics", || {
        main.metric("hauski_stage_duration_seconds_count{stage=\"satellite_transport\"}") >= 1.0
    });
    // `hauski top` reads the same figures and holds them to the budgets.
    let view = common::run_ok(
        common::hauski()
            .env("HAUSKI_API", &main.base)
            .args(["top", "--once"]),
    );
    let row = view
        .lines()
        .find(|l| l.contains("│satellite_first_audio"))
        .unwrap_or_default();
    assert!(row.contains("3000") && row.contains(" ok"), "{row:?} in\n{view}");
    assert!(view.contains("RSS "), "{view}");

    // NATS goes away: the satellite says so, once, in its own voice.
    let hall = hall_pw.record("hall", &dir.join("hall-2.wav"));
    let played_before = count(&satellite.log(), "answer played");
    nats.stop();
    satellite.wait_for("the satellite to say the main is out of reach", |log| {
        log.contains("out of reach") && count(log, "answer played") > played_before
    });
    let notice = common::transcribe(&hall.stop()).to_lowercase();
    assert!(
        notice.contains("reach") && notice.contains("main"),
        "the hall heard {notice:?}"
    );

    // NATS is back: both reconnect, and the next question (for the LLM,
    // told the room) is answered in the hall.
    nats.restart();
    satellite.wait_for("the main's heartbeat again", |log| {
        count(log, "the main HausKI answers") >= 2
    });
    let hall = hall_pw.record("hall", &dir.join("hall-3.wav"));
    ask(
        &satellite,
        &hall_pw,
        &spoken_request(&dir, "capital", "what is the capital of France"),
    );
    let hall = hall.stop();
    let log = main.log();
    let heard = last_field(&log, "satellite question", "transcript");
    assert!(
        wer("what is the capital of France", &heard) <= 0.4,
        "the main heard {heard:?}\n{log}"
    );
    assert!(
        log.contains("The user is speaking in the hall."),
        "the prompt names the room:\n{log}"
    );
    assert!(peak(&hall) > 0.01, "the hall heard no answer ({})", peak(&hall));
    for stage in [
        "asr",
        "retrieval",
        "llm_first_token",
        "tts_first_audio",
        "satellite_first_audio",
    ] {
        let count = main.metric(&format!(
            "hauski_stage_duration_seconds_count{{stage=\"{stage}\"}}"
        ));
        assert!(count >= 1.0, "no {stage} duration on /metrics");
    }
    assert_eq!(
        count(&satellite.log(), "out of reach"),
        1,
        "said once:\n{}",
        satellite.log()
    );

    // Barge-in: the wake word while the satellite speaks stops it at once,
    // and the question after it is answered.
    let first_audio = count(&satellite.log(), "first answer audio");
    hall_pw.play(
        "mic",
        &spoken_request(
            &dir,
            "story",
            "tell me a long story about a brave knight and a dragon",
        ),
    );
    satellite.wait_for("the story to play", |log| {
        count(log, "first answer audio") > first_audio
    });
    ask(
        &satellite,
        &hall_pw,
        &spoken_request(&dir, "never-mind", "never mind"),
    );
    let log = satellite.log();
    let stopped = log
        .lines()
        .rev()
        .find(|l| l.contains("barge-in: playback stopped"))
        .and_then(|l| l.split("dropped_s=").nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok());
    assert!(stopped.is_some_and(|s| s > 0.0), "no barge-in:\n{log}");
    main.wait_for("the main to answer \"never mind\"", || {
        last_field(&main.log(), "satellite answer", "answer") == "Okay."
    });

    // A kitchen satellite joins; one wake word heard in both rooms, louder
    // in the kitchen, is answered once, in the kitchen.
    let kitchen_pw = PipeWire::start(&common::fresh_dir("pw-kitchen"), &["kitchen", "mic"]);
    kitchen_pw.set_default_sink("kitchen");
    let kitchen_satellite = Satellite::start(
        &kitchen_pw,
        &common::fresh_dir("satellite-kitchen-data"),
        &nats.url(),
        "kitchen",
    );
    kitchen_satellite.wait_for("the main's heartbeat", |log| {
        log.contains("the main HausKI answers")
    });
    let near = spoken_request(&dir, "near", "switch to the kitchen profile");
    let far = dir.join("far.wav");
    // Half as loud (−6 dB) in the hall.
    let quieter: Vec<i16> = hauski_audio::load_mono(&near, 16_000)
        .expect("the request is a WAV")
        .iter()
        .map(|s| (s * 0.5 * 32767.0) as i16)
        .collect();
    common::write_wav_16k(&far, &quieter);
    let hall = hall_pw.record("hall", &dir.join("hall-4.wav"));
    let kitchen = kitchen_pw.record("kitchen", &dir.join("kitchen-4.wav"));
    let turns_before = count(&main.log(), "satellite answer");
    let in_the_hall = hall_pw.play_in_background("mic", &far);
    ask(&kitchen_satellite, &kitchen_pw, &near);
    drop(in_the_hall);
    let (hall, kitchen) = (hall.stop(), kitchen.stop());
    let log = main.log();
    assert_eq!(
        count(&log, "satellite answer") - turns_before,
        1,
        "one answer:\n{log}"
    );
    assert!(
        log.contains("satellite turn goes to the loudest room room=kitchen") && log.contains("others=1"),
        "both rooms heard it, the kitchen won:\n{log}"
    );
    assert!(satellite.log().contains("standing down"), "{}", satellite.log());
    let confirmation = common::transcribe(&kitchen).to_lowercase();
    assert!(
        confirmation.contains("kitchen profile in the kitchen"),
        "the kitchen heard {confirmation:?}"
    );
    assert!(peak(&hall) < 0.001, "the hall heard something ({})", peak(&hall));
}
