//! Retrieval in the API's chat (`"retrieval": {"notes": true}`), and the
//! daemon's watcher keeping the index fresh while it serves.

use crate::common;

use std::time::Instant;

use crate::common::server::{Server, post_json};
use crate::common::{hauski_with_data, require_gemma, run_ok};
use serde_json::{Value, json};

fn ask(server: &Server, question: &str) -> Value {
    let (status, body) = post_json(
        &server.url("/v1/chat/completions"),
        &json!({"model": "hauski", "messages": [{"role": "user", "content": question}],
                "max_tokens": 40, "temperature": 0, "retrieval": {"notes": true}}),
    );
    assert_eq!(status, 200, "{body}");
    body
}

fn sources(body: &Value) -> Vec<String> {
    body["hauski"]["sources"]
        .as_array()
        .map(|s| s.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

#[test]
fn chat_answers_from_the_notes_and_the_daemon_follows_new_ones() {
    require_gemma();
    let data = common::fresh_dir("api-notes-data");
    let vault = common::fresh_dir("api-notes-vault");
    std::fs::write(
        vault.join("plumber.md"),
        "# Repairs\nThe plumber comes on Tuesday at nine.\n",
    )
    .expect("note");
    std::fs::write(
        vault.join("garden.md"),
        "# Garden\nThe roses were planted in April.\n",
    )
    .expect("note");
    run_ok(hauski_with_data(&data).args(["index", "add"]).arg(&vault));

    let server = Server::start(hauski_with_data(&data), &[]);
    let body = ask(&server, "When does the plumber come?");
    let found = sources(&body);
    assert!(
        found.first().is_some_and(|s| s.contains("plumber.md")),
        "sources: {found:?}"
    );
    let answer = body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default();
    assert!(
        answer.contains("Tuesday"),
        "the answer should use the note: {answer}"
    );

    // Without the flag, no retrieval and no sources.
    let (_, plain) = post_json(
        &server.url("/v1/chat/completions"),
        &json!({"model": "hauski", "messages": [{"role": "user", "content": "When does the plumber come?"}], "max_tokens": 8}),
    );
    assert!(plain.get("hauski").is_none(), "{plain}");

    // Memories, when asked for: the one that fits is listed with its score.
    run_ok(hauski_with_data(&data).args(["memory", "add", "The window cleaner comes on Friday"]));
    run_ok(hauski_with_data(&data).args(["memory", "add", "Anna likes green tea"]));
    let (status, body) = post_json(
        &server.url("/v1/chat/completions"),
        &json!({"model": "hauski", "messages": [{"role": "user", "content": "When does the window cleaner come?"}],
                "max_tokens": 8, "retrieval": {"memories": true}}),
    );
    assert_eq!(status, 200, "{body}");
    let memories = &body["hauski"]["memories"];
    assert!(
        memories[0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("window cleaner")),
        "{body}"
    );
    assert!(
        memories[0]["score"]
            .as_f64()
            .is_some_and(|s| s > memories[1]["score"].as_f64().unwrap_or(1.0)),
        "{body}"
    );
    assert!(
        body["hauski"]["notes"].as_array().is_some_and(Vec::is_empty),
        "{body}"
    );

    // A note written while the daemon runs is indexed by its watcher.
    server.wait_for("the watcher's first pass", || {
        server.log().contains("watching the notes folders")
    });
    std::fs::write(
        vault.join("boiler.md"),
        "# Heating\nThe boiler service code is 4711.\n",
    )
    .expect("note");
    let started = Instant::now();
    server.wait_for("the new note to be indexed", || server.log().contains("added=1"));
    let found = sources(&ask(&server, "What is the boiler service code?"));
    assert!(
        found.first().is_some_and(|s| s.contains("boiler.md")),
        "sources after the edit: {found:?}"
    );
    println!(
        "new note searchable {:.1} s after it was written",
        started.elapsed().as_secs_f64()
    );
}
