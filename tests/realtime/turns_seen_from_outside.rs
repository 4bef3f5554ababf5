//! The voice loop's turn seen from outside: a separate NATS subscriber
//! hears its events in order across a NATS restart and sends commands, and
//! every door (voice, API, Wyoming, CLI) asks the LLM the same way.
use crate::common;

use crate::common::nats::{Nats, Subscriber};
use crate::common::pipewire::PipeWire;
use crate::common::server::{get, post_json};
use crate::common::voice::{
    ask, count, last_field, one_at_a_time, spoken_request, start_daemon, start_daemon_with,
};
use crate::common::{hauski_with_data, require_gemma, wer};
use serde_json::{Value, json};

/// The order every spoken turn's events come in, checked on what a separate
/// NATS subscriber received.
fn assert_turn_on_nats(events: &[Value]) {
    let subjects: Vec<&str> = events.iter().filter_map(|e| e["subject"].as_str()).collect();
    let at = |subject: &str| {
        subjects
            .iter()
            .rposition(|s| *s == subject)
            .unwrap_or_else(|| panic!("no {subject} on NATS: {subjects:?}"))
    };
    let first = |subject: &str| subjects.iter().position(|s| *s == subject).unwrap_or(usize::MAX);
    let wake = at("hauski.wake");
    let order = [
        wake,
        first("hauski.vad.start"),
        first("hauski.vad.end"),
        at("hauski.asr.final"),
        at("hauski.turn.start"),
        at("hauski.tts.start"),
        first("hauski.turn.sentence"),
        at("hauski.tts.stop"),
    ];
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "events out of order: {subjects:?}"
    );
    assert!(
        wake < first("hauski.asr.partial"),
        "no partial after the wake word: {subjects:?}"
    );
    assert!(at("hauski.turn.end") > at("hauski.turn.start"), "{subjects:?}");
    let question = events[at("hauski.asr.final")]["data"]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        wer("what is the capital of France", question) <= 0.4,
        "heard {question:?}"
    );
}

#[test]
fn the_bus_goes_over_nats_survives_a_restart_and_takes_commands() {
    let _serial = one_at_a_time();
    require_gemma();
    let mut nats = Nats::start();
    let pw = PipeWire::start(&common::fresh_dir("pw"), &["kitchen", "living", "mic"]);
    let dir = common::fresh_dir("nats-audio");
    let mut subscriber = Subscriber::start(&nats.url());
    let server = start_daemon_with(&pw, &common::fresh_dir("nats-data"), &["--bus", &nats.url()]);
    server.wait_for("the bus to connect", || {
        server.log().contains("connected to NATS")
    });
    let question = spoken_request(&dir, "capital", "what is the capital of France");

    // A spoken turn: its events reach the subscriber in order.
    ask(&server, &pw, &question);
    assert_turn_on_nats(&subscriber.turn());

    // NATS goes away: the turn is still answered aloud.
    nats.stop();
    subscriber.next_where("the subscriber to lose NATS", |v| {
        v["connection"] == "disconnected"
    });
    server.wait_for("the daemon to notice", || server.log().contains("NATS is gone"));
    ask(&server, &pw, &question);
    // The daemon lives on, and says what is missing.
    let (status, health) = get(&server.url("/healthz"), None);
    let health: Value = serde_json::from_str(&health).unwrap_or_default();
    assert_eq!(status, 503, "{health}");
    assert_eq!(health["components"]["bus"]["state"], "down", "{health}");

    // NATS is back: both reconnect, and the next turn is published again.
    nats.restart();
    subscriber.next_where("the subscriber to reconnect", |v| {
        v["connection"] == "reconnected"
    });
    server.wait_for("the daemon to reconnect", || {
        count(&server.log(), "connected to NATS") >= 2
    });
    server.wait_for("healthz to be 200 again", || {
        get(&server.url("/healthz"), None).0 == 200
    });
    // Events of the turn asked while NATS was away may arrive now, late;
    // the next wake word starts the turn checked here.
    ask(&server, &pw, &question);
    let mut events = subscriber.turn();
    if let Some(wake) = events.iter().rposition(|e| e["subject"] == "hauski.wake") {
        events.drain(..wake);
    }
    assert_turn_on_nats(&events);

    // Commands: a malformed one is refused and explained, the daemon lives on.
    let refused = subscriber.command("hauski.cmd.profile.set", "{not json");
    assert_eq!(refused["ok"], false, "{refused}");
    assert!(
        refused["error"].as_str().unwrap_or_default().contains("profile"),
        "{refused}"
    );
    assert!(server.log().contains("command refused"), "{}", server.log());
    server.assert_alive();

    // A profile switch is carried out and published.
    let done = subscriber.command("hauski.cmd.profile.set", r#"{"profile": "kitchen"}"#);
    assert_eq!(done["ok"], true, "{done}");
    let changed = subscriber.next_where("the profile change", |v| v["subject"] == "hauski.profile.changed");
    assert_eq!(changed["data"]["profile"], "kueche");

    // A notification is read aloud in the kitchen.
    let kitchen = pw.record("kitchen", &dir.join("kitchen.wav"));
    let played_before = count(&server.log(), "answer played");
    let queued = subscriber.command(
        "hauski.cmd.notify",
        r#"{"sender": "Anna", "text": "The train is late.", "urgency": "normal"}"#,
    );
    assert_eq!(queued["ok"], true, "{queued}");
    server.wait_for("the message to play", || {
        count(&server.log(), "answer played") > played_before
    });
    let heard = common::transcribe(&kitchen.stop());
    assert!(
        wer("message from Anna the train is late", &heard) <= 0.4,
        "the kitchen heard {heard:?}"
    );
}

/// What the LLM was last asked, from a log with the prompt at debug level.
fn last_prompt(log: &str) -> String {
    log.lines()
        .rev()
        .find_map(|l| {
            l.split_once(" llm prompt text=")
                .map(|(_, p)| p.trim().to_string())
        })
        .unwrap_or_default()
}

#[test]
fn every_door_asks_the_llm_the_same_way() {
    let _serial = one_at_a_time();
    require_gemma();
    let data = common::fresh_dir("same-prompt-data");
    common::run_ok(hauski_with_data(&data).args(["memory", "add", "The plumber comes on Tuesday at nine"]));
    common::run_ok(hauski_with_data(&data).args(["memory", "add", "Anna likes green tea"]));
    let pw = PipeWire::start(&common::fresh_dir("pw"), &["kitchen", "living", "mic"]);
    let dir = common::fresh_dir("same-prompt-audio");
    let server = start_daemon(&pw, &data);

    // The voice loop: a spoken question, with the memories it may draw on.
    ask(
        &server,
        &pw,
        &spoken_request(&dir, "plumber", "when does the plumber come"),
    );
    let log = server.log();
    let question = last_field(&log, "heard", "transcript");
    let by_voice = last_prompt(&log);
    assert!(by_voice.contains("plumber comes on Tuesday"), "{by_voice}");

    // The API: the same question as an OpenAI chat, memories allowed.
    let (status, body) = post_json(
        &server.url("/v1/chat/completions"),
        &json!({
            "model": "hauski",
            "messages": [{"role": "user", "content": question}],
            "retrieval": {"memories": true},
            "max_tokens": 8,
        }),
    );
    assert_eq!(status, 200, "{body}");
    let by_api = last_prompt(&server.log());

    // The CLI: `hauski ask` on the same memory.
    let output = hauski_with_data(&data)
        .env("RUST_LOG", "warn,hauski_brain::conversation=debug")
        .args(["ask", &question, "--max-tokens", "8"])
        .output()
        .expect("hauski ask runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let by_cli = last_prompt(&String::from_utf8_lossy(&output.stderr));

    assert!(!by_voice.is_empty(), "no prompt in the daemon's log:\n{log}");
    assert_eq!(by_api, by_voice, "the API asked differently from the voice loop");
    assert_eq!(
        by_cli, by_voice,
        "`hauski ask` asked differently from the voice loop"
    );
}
