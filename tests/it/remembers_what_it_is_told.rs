//! Memory from the command line and by voice: remember, recall in an answer,
//! pin, forget.

use crate::common;

use std::path::Path;

use crate::common::{hauski_with_data, require_gemma, run_err, run_ok};

fn memory_list(data: &Path) -> Vec<serde_json::Value> {
    let out = run_ok(hauski_with_data(data).args(["memory", "list", "--json"]));
    serde_json::from_str::<Vec<serde_json::Value>>(&out).expect("JSON list")
}

#[test]
fn add_pin_forget_from_the_cli() {
    let data = tempfile::tempdir().expect("tmp");
    let out =
        run_ok(hauski_with_data(data.path()).args(["memory", "add", "Buy oat milk", "--layer", "long"]));
    assert!(out.contains("remembered as 1 (long)"), "{out}");
    run_ok(hauski_with_data(data.path()).args(["memory", "pin", "1"]));
    let list = memory_list(data.path());
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["text"], "Buy oat milk");
    assert_eq!(list[0]["pinned"], true);
    run_ok(hauski_with_data(data.path()).args(["memory", "forget", "1"]));
    assert!(memory_list(data.path()).is_empty());

    let err = run_err(hauski_with_data(data.path()).args(["memory", "forget", "1"]));
    assert!(err.contains("no memory with id 1"), "{err}");
    let err = run_err(hauski_with_data(data.path()).args(["memory", "add", "x", "--layer", "forever"]));
    assert!(err.contains("unknown memory layer \"forever\""), "{err}");
}

#[test]
fn a_malformed_memory_policy_names_the_file() {
    let config = tempfile::tempdir().expect("tmp");
    std::fs::create_dir(config.path().join("policies")).expect("mkdir");
    std::fs::write(
        config.path().join("policies/memory.yaml"),
        "layers: {short: {ttl: 30m}, working: {ttl: soon}, long: {ttl: never}}\nprompt_entries: 5\n",
    )
    .expect("write");
    let data = tempfile::tempdir().expect("tmp");
    let err = run_err(
        hauski_with_data(data.path())
            .env("HAUSKI_CONFIG", config.path())
            .args(["memory", "list"]),
    );
    assert!(
        err.contains("memory.yaml") && err.contains("layers.working.ttl"),
        "{err}"
    );
}

/// Speaks `text` with HausKI's own voice into `dir/name`.
fn spoken(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    run_ok(common::hauski().args(["say", text, "-o"]).arg(&path));
    path
}

fn converse(data: &Path, input: &Path, out: &Path) -> serde_json::Value {
    let stdout = run_ok(
        hauski_with_data(data)
            .args(["converse", "--json", "--temperature", "0", "--input"])
            .arg(input)
            .arg("--output")
            .arg(out),
    );
    serde_json::from_str(&stdout).expect("JSON")
}

/// Needs Gemma 3 270M: the tiny test model cannot answer a question.
#[test]
fn remembers_by_voice_recalls_in_an_answer_and_forgets() {
    require_gemma();
    let data = tempfile::tempdir().expect("tmp");
    let dir = tempfile::tempdir().expect("tmp");

    let remember = spoken(
        dir.path(),
        "remember.wav",
        "Remember that the plumber comes on Tuesday.",
    );
    let v = converse(data.path(), &remember, &dir.path().join("r.wav"));
    assert!(
        v["memory_action"]
            .as_str()
            .is_some_and(|a| a.starts_with("remembered")),
        "{v}"
    );
    let list = memory_list(data.path());
    assert_eq!(list.len(), 1, "{list:?}");
    let text = list[0]["text"].as_str().expect("text").to_lowercase();
    assert!(text.contains("plumber") && text.contains("tuesday"), "{text}");
    assert_eq!(list[0]["layer"], "working");
    let heard = common::transcribe(&dir.path().join("r.wav")).to_lowercase();
    assert!(heard.contains("remember"), "the confirmation is spoken: {heard}");

    let ask = spoken(dir.path(), "ask.wav", "What did I say about the plumber?");
    let answer_wav = dir.path().join("a.wav");
    let v = converse(data.path(), &ask, &answer_wav);
    assert!(v["memory_action"].is_null(), "a question, not a command: {v}");
    let heard = common::transcribe(&answer_wav).to_lowercase();
    assert!(
        heard.contains("tuesday"),
        "answer {:?}, heard {heard:?}",
        v["answer"]
    );

    let forget = spoken(dir.path(), "forget.wav", "Forget the plumber.");
    let v = converse(data.path(), &forget, &dir.path().join("f.wav"));
    assert!(
        v["memory_action"]
            .as_str()
            .is_some_and(|a| a.starts_with("forgot 1")),
        "{v}"
    );
    assert!(memory_list(data.path()).is_empty());
}

/// 200 remembered things about other matters, and the plumber: `count`
/// filler memories from a fixed list, none about the plumber or a Tuesday.
fn unrelated_memory(i: usize) -> String {
    const WHO: [&str; 8] = [
        "Anna",
        "Ben",
        "Grandma",
        "the neighbour",
        "Lena",
        "Tom",
        "Aunt Ute",
        "Max",
    ];
    const WHAT: [&str; 10] = [
        "likes green tea",
        "is allergic to cats",
        "plays the cello",
        "wants a red bicycle",
        "reads crime novels",
        "collects stamps",
        "hates mushrooms",
        "runs on Sunday mornings",
        "keeps bees",
        "learns Spanish",
    ];
    const THINGS: [&str; 5] = [
        "the spare key is in the blue bowl",
        "the bins go out on Monday",
        "the fuse box is behind the coats",
        "the cat food is in the cellar",
        "the wifi password is on the fridge",
    ];
    if i % 5 == 4 {
        format!("{} (note {i})", THINGS[(i / 5) % THINGS.len()])
    } else {
        format!("{} {} (note {i})", WHO[i % WHO.len()], WHAT[(i / 8) % WHAT.len()])
    }
}

/// Needs Gemma 3 270M: the tiny test model cannot answer a question.
#[test]
fn the_memory_that_fits_the_question_goes_into_the_prompt() {
    use hauski_brain::memory::{Layer, MemoryPolicy, MemoryStore, SystemClock};
    require_gemma();
    let data = tempfile::tempdir().expect("tmp");
    let store = MemoryStore::open(
        &data.path().join("memory.sqlite"),
        MemoryPolicy::default(),
        std::sync::Arc::new(SystemClock),
    )
    .expect("memory opens");
    for i in 0..100 {
        store
            .remember(Layer::Long, &unrelated_memory(i))
            .expect("remember");
    }
    let plumber = store
        .remember(Layer::Working, "the plumber comes on Tuesday at nine")
        .expect("remember");
    // The plumber is neither the newest nor the oldest.
    for i in 100..200 {
        store
            .remember(Layer::Long, &unrelated_memory(i))
            .expect("remember");
    }
    drop(store);

    let out = run_ok(hauski_with_data(data.path()).args([
        "ask",
        "--json",
        "--temperature",
        "0",
        "When does the plumber come?",
    ]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let memories = v["context"]["memories"].as_array().expect("memories listed");
    assert_eq!(memories[0]["id"], plumber, "the plumber ranks first: {v:#}");
    assert!(memories[0]["score"].as_f64().is_some_and(|s| s > 0.3), "{v:#}");
    let limit = memories.len();
    assert!(limit <= 5, "only the best few go in: {limit}");
    let answer = v["text"].as_str().unwrap_or_default().to_lowercase();
    assert!(answer.contains("tuesday"), "answer {answer:?}");
}
