//! The editor endpoints (Obsidian canvas ideas, PR drafts) with Gemma, the
//! `hauski wake` commands, and the API on a machine without PipeWire.

use crate::common;

use crate::common::server::{Server, assert_error, post_json};
use crate::common::{espeak, hauski, padded, require_gemma, run_err, run_ok, write_wav_16k};
use serde_json::{Value, json};

fn ids(nodes: &Value) -> Vec<String> {
    nodes
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn editors_get_canvas_ideas_and_pr_drafts_and_no_pipewire_is_no_problem() {
    require_gemma();
    let mut cmd = hauski();
    // An empty runtime dir: no PipeWire to be found, whatever the machine has.
    cmd.env("XDG_RUNTIME_DIR", common::fresh_dir("no-pipewire"));
    let server = Server::start(cmd, &[]);
    assert!(server.log().contains("voice loop is off"), "{}", server.log());

    let canvas = json!({
        "nodes": [
            {"id": "a1", "type": "text", "text": "Plan the garden for spring", "x": 0, "y": 0, "width": 250, "height": 60},
            {"id": "a2", "type": "text", "text": "Buy tomato seeds", "x": 0, "y": 200, "width": 250, "height": 60},
            {"id": "f1", "type": "file", "file": "garden.md", "x": 400, "y": 0, "width": 250, "height": 60}
        ],
        "edges": [{"id": "e1", "fromNode": "a1", "toNode": "a2"}],
        "max_suggestions": 3
    });
    let (status, body) = post_json(&server.url("/obsidian/canvas/suggest"), &canvas);
    assert_eq!(status, 200, "{body}");
    let new_ids = ids(&body["nodes"]);
    assert!((1..=3).contains(&new_ids.len()), "{body}");
    for node in body["nodes"].as_array().into_iter().flatten() {
        assert_eq!(node["type"], "text");
        assert!(
            !node["text"].as_str().unwrap_or_default().trim().is_empty(),
            "{node}"
        );
    }
    for edge in body["edges"].as_array().into_iter().flatten() {
        assert!(
            ["a1", "a2"].contains(&edge["fromNode"].as_str().unwrap_or_default()),
            "{edge}"
        );
        assert!(
            new_ids.contains(&edge["toNode"].as_str().unwrap_or_default().to_string()),
            "{edge}"
        );
    }
    let (status, body) = post_json(
        &server.url("/obsidian/canvas/suggest"),
        &json!({"nodes": [{"id": "f1", "type": "file", "file": "x.md"}]}),
    );
    assert!(assert_error(status, &body, 400).contains("no text nodes"));

    let diff = "diff --git a/src/timer.rs b/src/timer.rs\n--- a/src/timer.rs\n+++ b/src/timer.rs\n@@ -1,3 +1,4 @@\n fn ring() {\n-    beep(1);\n+    beep(3);\n+    flash_lights();\n }\n";
    let (status, body) = post_json(&server.url("/code/pr/draft"), &json!({"diff": diff}));
    assert_eq!(status, 200, "{body}");
    assert!(
        !body["title"].as_str().unwrap_or_default().trim().is_empty(),
        "{body}"
    );
    let text = body["body"].as_str().unwrap_or_default();
    assert!(text.contains("`src/timer.rs` (+2 −1)"), "{text}");
    let (status, body) = post_json(&server.url("/code/pr/draft"), &json!({"diff": "just some words"}));
    assert!(assert_error(status, &body, 400).contains("unified diff"));
}

#[test]
fn wake_test_finds_the_wake_word_with_its_time_and_explains_bad_files() {
    let dir = common::fresh_dir("wake-cli");
    // One second of silence, the phrase, one second of silence: found after the phrase starts.
    let probe = dir.join("probe.wav");
    write_wav_16k(
        &probe,
        &padded(&espeak("hey hauski", "en-gb-scotland", 160, 50), 1.0),
    );
    let found = run_ok(hauski().args(["wake", "test", "--json"]).arg(&probe));
    let found: Value = serde_json::from_str(&found).expect("JSON");
    let first = &found[0];
    assert_eq!(first["name"], "hey-hauski", "{found}");
    let at = first["timestamp_ms"].as_u64().unwrap_or_default();
    assert!((1000..=2500).contains(&at), "{found}");

    // The same classifier named as a file; a missing one and a file that is no model are explained.
    let classifier = common::repo().join("assets/wakeword/hey-hauski.onnx");
    let found = run_ok(
        hauski()
            .args(["wake", "test", "--wake-file"])
            .arg(&classifier)
            .arg(&probe),
    );
    assert!(found.contains("hey-hauski at "), "{found}");
    let err = run_err(
        hauski()
            .args(["wake", "test", "--wake-file", "no-such.onnx"])
            .arg(&probe),
    );
    assert!(
        err.contains("no-such.onnx") && err.contains("train-wake.py"),
        "{err}"
    );
    let text = dir.join("notes.txt");
    std::fs::write(&text, "not audio").expect("write");
    let err = run_err(hauski().args(["wake", "test"]).arg(&text));
    assert!(err.contains("notes.txt"), "{err}");
    let err = run_err(
        hauski()
            .args(["wake", "test", "--wake-file"])
            .arg(&text)
            .arg(&probe),
    );
    assert!(err.contains("notes.txt"), "{err}");
}
