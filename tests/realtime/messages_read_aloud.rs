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
