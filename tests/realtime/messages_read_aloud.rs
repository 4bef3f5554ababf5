//! Messages read aloud as people live with them: a program's messages
//! (`POST /notify`, as Home Assistant automations send them) wait until
//! HausKI has answered the question it is being asked, arrive together as
//! one sentence, and are heard back through ASR from the room's sink; one
//! for another room is said there only.

use serde_json::json;

use crate::common::pipewire::PipeWire;
use crate::common::server::{assert_error, post_json};
use crate::common::voice::{count, last_field, one_at_a_time, spoken_request, start_daemon};
use crate::common::{fresh_dir, normalize, require_gemma, transcribe};

#[test]
fn messages_wait_for_the_answer_and_arrive_together_as_one() {
    let _serial = one_at_a_time();
    require_gemma();
    let pw = PipeWire::start(&fresh_dir("pw"), &["kitchen", "living", "mic"]);
    let dir = fresh_dir("notify-audio");
    let server = start_daemon(&pw, &fresh_dir("notify-data"));
    let living = pw.record("living", &dir.join("living.wav"));
    let kitchen = pw.record("kitchen", &dir.join("kitchen.wav"));
    let notify = |body: serde_json::Value| post_json(&server.url("/notify"), &body);

    // A question is being answered when three messages come in.
    let heard_before = count(&server.log(), "transcript=");
    pw.play("mic", &spoken_request(&dir, "time", "What time is it?"));
    server.wait_for("the question to be heard", || {
        count(&server.log(), "transcript=") > heard_before
    });
    for text in [
        "The washing machine is done.",
        "The dryer is done.",
        "The dishwasher is done.",
    ] {
        let (status, body) = notify(json!({"text": text, "source": "Home Assistant"}));
        assert_eq!(status, 202, "{body}");
    }
    server.wait_for("the messages to be read aloud", || {
        server.log().contains("reading messages aloud")
    });
    let log = server.log();
    let answered = log.rfind("answer played").unwrap_or(usize::MAX);
    let read = log.find("reading messages aloud").unwrap_or(0);
    assert!(answered < read, "the messages cut into the answer:\n{log}");
    assert_eq!(count(&log, "reading messages aloud"), 1, "{log}");
    assert_eq!(
        last_field(&log, "reading messages aloud", "text"),
        "Three messages from Home Assistant. The last: The dishwasher is done.",
    );

    // An urgent one for the kitchen is said there.
    let (status, body) = notify(
        json!({"text": "Someone is at the door.", "source": "the doorbell",
        "urgency": "high", "profile": "kitchen"}),
    );
    assert_eq!(status, 202, "{body}");
    server.wait_for("the kitchen message to play there", || {
        server.log().contains("played in its own room")
    });
    assert_eq!(count(&server.log(), "reading messages aloud"), 2);

    // What is refused, and why.
    let (status, body) = notify(json!({"text": "Hi", "source": "x", "profile": "garage"}));
    let message = assert_error(status, &body, 404);
    assert!(
        message.contains("garage") && message.contains("kueche"),
        "{message}"
    );
    let (status, body) = notify(json!({"text": "  ", "source": "x"}));
    assert!(assert_error(status, &body, 400).contains("empty"));
    let (status, body) = notify(json!({"text": "a".repeat(2001), "source": "x"}));
    assert!(assert_error(status, &body, 400).contains("2000"));
    let (status, body) = notify(json!({"text": "Hi", "from": "x"}));
    assert_error(status, &body, 400);

    let heard_living = normalize(&transcribe(&living.stop())).join(" ");
    assert!(
        heard_living.contains("three messages from home assistant") && heard_living.contains("dishwasher"),
        "the living room, read back: {heard_living:?}"
    );
    let heard_kitchen = normalize(&transcribe(&kitchen.stop())).join(" ");
    assert!(
        heard_kitchen.contains("door") && !heard_kitchen.contains("dishwasher"),
        "the kitchen, read back: {heard_kitchen:?}"
    );
}

/// Telegram, Matrix and Signal on loopback, each with a real long-poll: a
/// message posted to each is read aloud in the living room (heard back
/// through ASR with its sender and text); a question asked meanwhile is
/// kept as an encrypted recording; after a restart of the daemon, what came
/// in while it was down is read, and nothing is read twice.
#[test]
fn messengers_are_read_aloud_once_across_restarts() {
    use crate::common::adapters::{config_granting_loopback, set_secret};
    use crate::common::messengers::{MATRIX_TOKEN, Messengers, SIGNAL_NUMBER, TELEGRAM_TOKEN};
    use crate::common::{hauski_with_data, run_ok};

    let _serial = one_at_a_time();
    require_gemma();
    let messengers = Messengers::start();
    let pw = PipeWire::start(&fresh_dir("pw"), &["kitchen", "living", "mic"]);
    let dir = fresh_dir("messengers-audio");
    let data = fresh_dir("messengers-data");
    // The owner keeps recordings here.
    let config = config_granting_loopback(&fresh_dir("messengers-config"), |memory| {
        memory.replace("keep: false", "keep: true")
    });
    let hauski = |args: &[&str]| {
        let mut cmd = hauski_with_data(&data);
        cmd.env("HAUSKI_CONFIG", &config).args(args);
        cmd
    };
    let url = &messengers.url;
    let (api, homeserver, number) = (
        format!("api={url}"),
        format!("homeserver={url}"),
        format!("number={SIGNAL_NUMBER}"),
    );
    for (adapter, settings) in [
        ("telegram", vec![api.as_str()]),
        ("matrix", vec![homeserver.as_str(), "user_id=@hauski:example.org"]),
        ("signal", vec![api.as_str(), number.as_str()]),
    ] {
        // Short long-polls: the killed daemon's end sooner (see below).
        let mut args = vec!["adapters", "enable", adapter, "--set", "wait_s=2"];
        for setting in settings {
            args.extend(["--set", setting]);
        }
        run_ok(&mut hauski(&args));
    }
    set_secret(&data, &config, "telegram", "token", TELEGRAM_TOKEN);
    set_secret(&data, &config, "matrix", "access_token", MATRIX_TOKEN);
    let daemon = || {
        let mut cmd = hauski_with_data(&data);
        cmd.env("HAUSKI_CONFIG", &config);
        pw.set_default_sink("living");
        crate::common::voice::listening_daemon(&pw, cmd, &[])
    };

    let server = daemon();
    // Matrix's first sync only takes the token: wait for it, so this
    // message is new to it.
    server.wait_for("the adapters to poll", || {
        let requests = messengers.requests();
        ["getUpdates", "/sync", "/v1/receive"]
            .iter()
            .all(|path| requests.iter().any(|r| r.contains(path)))
    });
    let living = pw.record("living", &dir.join("living.wav"));
    messengers.telegram("Anna", "The train is late.");
    messengers.matrix("Ben", "Dinner is ready.");
    messengers.signal("Carla", "I bought the milk.");
    server.wait_for("all three to be read aloud", || {
        let read = spoken_texts(&server.log());
        ["train is late", "Dinner is ready", "bought the milk"]
            .iter()
            .all(|t| read.contains(t))
    });
    wait_until_played(&server);
    let heard = normalize(&transcribe(&living.stop())).join(" ");
    for words in [
        "anna", "telegram", "train", "late", "ben", "family", "matrix", "dinner", "carl", "signal", "milk",
    ] {
        assert!(
            heard.contains(words),
            "{words:?} not heard in the living room: {heard:?}"
        );
    }

    // The owner keeps recordings here: a question is kept, encrypted, and
    // reads back with the vault's identity.
    crate::common::voice::ask(&server, &pw, &spoken_request(&dir, "time", "What time is it?"));
    let listed = run_ok(&mut hauski(&["recordings", "list"]));
    let name = listed.split_whitespace().next().unwrap_or_default().to_string();
    assert_eq!(listed.lines().count(), 1, "{listed}");
    let sealed = std::fs::read(data.join("recordings").join(format!("{name}.wav.age"))).expect("kept");
    assert!(sealed.starts_with(b"age-encryption.org/v1"), "not encrypted");
    let played = dir.join("kept.wav");
    run_ok(&mut hauski(&[
        "recordings",
        "play",
        &name,
        "--output",
        played.to_str().expect("utf-8"),
    ]));
    let kept = normalize(&transcribe(&played)).join(" ");
    assert!(kept.contains("time"), "the kept recording says {kept:?}");
    drop(server);
    // The killed daemon's long-polls are still open on the servers; signal-cli's
    // receive would hand them the next message, lost with the dead client.
    messengers.wait_until_idle();

    // While the daemon is down, one more on each.
    messengers.telegram("Anna", "I am home now.");
    messengers.matrix("Ben", "Leftovers are in the fridge.");
    messengers.signal("Carla", "Call me back.");
    let server = daemon();
    server.wait_for("what came while it was down", || {
        let read = spoken_texts(&server.log());
        ["home now", "Leftovers", "Call me back"]
            .iter()
            .all(|t| read.contains(t))
    });
    let read = spoken_texts(&server.log());
    for old in ["train is late", "Dinner is ready", "bought the milk"] {
        assert!(!read.contains(old), "{old:?} was read twice: {read}");
    }
}

/// Every `text=` of the "reading messages aloud" lines, joined.
fn spoken_texts(log: &str) -> String {
    log.lines()
        .filter(|l| l.contains("reading messages aloud"))
        .filter_map(|l| l.split("text=").nth(1))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Waits until what was read aloud last has played out.
fn wait_until_played(server: &crate::common::server::Server) {
    server.wait_for("the messages to play out", || {
        let log = server.log();
        log.rfind("answer played") > log.rfind("reading messages aloud")
    });
}
