//! Bad input gets a clear error that names the file and the fix: exit code 1,
//! never a panic.

use crate::common;

use std::path::Path;

use crate::common::{audio, hauski, run_err, shared_models};

fn write_models_yml(config_dir: &Path, id: &str, path: &str, sha256: &str) {
    let yaml = format!(
        "models:\n  - id: {id}\n    kind: asr\n    path: {path}\n    sha256: {sha256}\n    quantisation: q8_0\n    url: http://127.0.0.1:9/none\ndefaults:\n  asr: [{id}]\n  tts: []\n  llm: []\n"
    );
    std::fs::write(config_dir.join("models.yml"), yaml).expect("write models.yml");
}

#[test]
fn missing_model_names_the_file_and_the_pull_command() {
    let empty = tempfile::tempdir().expect("tempdir");
    let err = run_err(
        hauski()
            .env("HAUSKI_MODELS", empty.path())
            .arg("transcribe")
            .arg(audio("jfk.wav")),
    );
    assert!(err.contains("ggml-tiny.en-q8_0.bin"), "{err}");
    assert!(err.contains("hauski models pull whisper-tiny-en"), "{err}");
}

#[test]
fn sha256_mismatch_is_reported_by_verify() {
    let root = tempfile::tempdir().expect("tempdir");
    let config = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        root.path().join("model.bin"),
        b"not the model you are looking for",
    )
    .expect("write");
    write_models_yml(config.path(), "broken", "model.bin", &"ab".repeat(32));
    let err = run_err(
        hauski()
            .env("HAUSKI_MODELS", root.path())
            .env("HAUSKI_CONFIG", config.path())
            .args(["models", "verify", "broken"]),
    );
    assert!(
        err.contains("sha256 mismatch") && err.contains("model.bin"),
        "{err}"
    );
    assert!(err.contains("hauski models pull broken"), "{err}");
    assert!(
        root.path().join("model.bin").is_file(),
        "verify never deletes anything"
    );
}

#[test]
fn verify_passes_on_the_shared_models() {
    let out = common::run_ok(hauski().args([
        "models",
        "verify",
        "whisper-tiny-en-test",
        "piper-joe",
        "tiny-random-llama",
    ]));
    assert_eq!(out.matches(" ok ").count(), 3, "{out}");
}

#[test]
fn truncated_wav_is_called_damaged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = std::fs::read(audio("jfk.wav")).expect("jfk.wav");
    let cut = dir.path().join("cut.wav");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let err = run_err(hauski().arg("transcribe").arg(&cut));
    assert!(err.contains("cut.wav") && err.contains("damaged WAV"), "{err}");
}

#[test]
fn corrupt_header_is_called_damaged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = std::fs::read(audio("jfk.wav")).expect("jfk.wav");
    bytes[12..16].copy_from_slice(b"junk");
    bytes[16..20].copy_from_slice(&[0xff; 4]);
    let bad = dir.path().join("bad-header.wav");
    std::fs::write(&bad, &bytes).expect("write");
    let err = run_err(hauski().arg("transcribe").arg(&bad));
    assert!(
        err.contains("bad-header.wav") && err.contains("damaged WAV"),
        "{err}"
    );
}

#[test]
fn text_file_is_not_audio() {
    let dir = tempfile::tempdir().expect("tempdir");
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "Buy milk.\nCall the plumber.\n").expect("write");
    let err = run_err(hauski().arg("transcribe").arg(&notes));
    assert!(
        err.contains("notes.txt") && err.contains("not a WAV, FLAC, MP3"),
        "{err}"
    );
    assert!(err.contains("sox"), "suggests a conversion: {err}");
}

#[test]
fn empty_audio_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.wav");
    common::write_wav_16k(&empty, &[]);
    let err = run_err(hauski().arg("transcribe").arg(&empty));
    assert!(
        err.contains("empty.wav") && err.contains("no audio samples"),
        "{err}"
    );

    let zero = dir.path().join("zero.wav");
    std::fs::write(&zero, b"").expect("write");
    let err = run_err(hauski().arg("transcribe").arg(&zero));
    assert!(
        err.contains("zero.wav") && err.contains("no audio samples"),
        "{err}"
    );
}

#[test]
fn missing_input_file_is_named() {
    let err = run_err(hauski().args(["transcribe", "/nonexistent/question.wav"]));
    assert!(err.contains("/nonexistent/question.wav"), "{err}");
}

#[test]
fn unknown_llm_lists_the_known_ones() {
    let err = run_err(hauski().args(["--llm", "gpt-9", "ask", "hi"]));
    assert!(
        err.contains("gpt-9") && err.contains("tiny-random-llama"),
        "{err}"
    );
}

#[test]
fn malformed_config_names_the_file() {
    let config = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(config.path().join("policies")).expect("mkdir");
    std::fs::write(config.path().join("policies/limits.yaml"), "speech: [unclosed").expect("write");
    let err = run_err(
        hauski()
            .env("HAUSKI_CONFIG", config.path())
            .arg("transcribe")
            .arg(audio("jfk.wav")),
    );
    assert!(err.contains("limits.yaml"), "{err}");
}

#[test]
fn a_weightless_whisper_file_loads_but_hears_nothing() {
    // whisper.cpp's loader test file: a valid header without weights must not
    // crash the process; it either loads and transcribes nothing or fails cleanly.
    let root = tempfile::tempdir().expect("tempdir");
    let config = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(root.path().join("whisper")).expect("mkdir");
    std::fs::copy(
        shared_models().join("whisper/for-tests-ggml-tiny.en.bin"),
        root.path().join("whisper/weightless.bin"),
    )
    .expect("copy");
    write_models_yml(
        config.path(),
        "weightless",
        "whisper/weightless.bin",
        &"00".repeat(32),
    );
    let out = hauski()
        .env("HAUSKI_MODELS", root.path())
        .env("HAUSKI_CONFIG", config.path())
        .arg("transcribe")
        .arg(audio("jfk.wav"))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.code().is_some(), "terminated by a signal: {stderr}");
}

#[test]
fn unknown_profile_lists_the_known_ones() {
    let err = run_err(hauski().args(["profile", "show", "garage"]));
    assert!(
        err.contains("I don't know a profile called \"garage\"") && err.contains("kueche"),
        "{err}"
    );
}

#[test]
fn a_profile_with_an_unknown_voice_is_named() {
    let config = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        config.path().join("profiles.yaml"),
        "active: a\nprofiles:\n  a: {sink: s, volume: 0.5, voice: nobody, speaking_rate: 1.0}\n",
    )
    .expect("write");
    let out = tempfile::tempdir().expect("tempdir");
    let err = run_err(
        hauski()
            .env("HAUSKI_CONFIG", config.path())
            .args(["say", "hello", "-o"])
            .arg(out.path().join("x.wav")),
    );
    assert!(err.contains("nobody") && err.contains("piper-joe"), "{err}");
}

#[test]
fn a_profile_with_an_impossible_volume_is_refused_at_start() {
    let config = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        config.path().join("profiles.yaml"),
        "active: a\nprofiles:\n  a: {sink: s, volume: 7, voice: piper-joe, speaking_rate: 1.0}\n",
    )
    .expect("write");
    let err = run_err(
        hauski()
            .env("HAUSKI_CONFIG", config.path())
            .args(["profile", "list"]),
    );
    assert!(err.contains("profiles.yaml") && err.contains("volume 7"), "{err}");
}

#[test]
fn config_check_names_every_bad_key_with_file_and_line() {
    let config = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(config.path().join("policies")).expect("mkdir");
    // An owner's files hold only what they change; three mistakes in two files.
    std::fs::write(
        config.path().join("profiles.yaml"),
        "profiles:\n  kueche:\n    volum: 0.5\n    speaking_rate: fast\n",
    )
    .expect("write");
    std::fs::write(
        config.path().join("policies/limits.yaml"),
        "# quieter nights\nspeech:\n  vad_hangover: 500\n",
    )
    .expect("write");
    let err = run_err(hauski().arg("config").arg("check").arg(config.path()));
    let profiles = config.path().join("profiles.yaml");
    let limits = config.path().join("policies/limits.yaml");
    for wanted in [
        format!(
            "{}:4: profiles.kueche.speaking_rate: invalid type",
            profiles.display()
        ),
        format!(
            "{}:3: profiles.kueche.volum: unknown field `volum`",
            profiles.display()
        ),
        format!(
            "{}:3: speech.vad_hangover: unknown field `vad_hangover`",
            limits.display()
        ),
        "3 problem(s)".to_string(),
    ] {
        assert!(err.contains(&wanted), "missing {wanted:?} in:\n{err}");
    }
    // Any other command refuses the same config, naming the first problem.
    let err = run_err(
        hauski()
            .env("HAUSKI_CONFIG", config.path())
            .args(["profile", "list"]),
    );
    assert!(
        err.contains("profiles.kueche") && err.contains("hauski config check"),
        "{err}"
    );
}

#[test]
fn config_init_writes_defaults_that_change_nothing() {
    let config = tempfile::tempdir().expect("tempdir");
    let out = common::run_ok(hauski().arg("config").arg("init").arg(config.path()));
    assert!(
        out.contains("wrote") && out.contains("policies/routing.yaml"),
        "{out}"
    );
    let out = common::run_ok(hauski().arg("config").arg("check").arg(config.path()));
    assert!(out.contains("every file is valid"), "{out}");
    let listed = common::run_ok(
        hauski()
            .env("HAUSKI_CONFIG", config.path())
            .args(["profile", "list"]),
    );
    let built_in = common::run_ok(hauski().args(["profile", "list"]));
    assert_eq!(listed, built_in, "an initialised config is the built-in one");
}
