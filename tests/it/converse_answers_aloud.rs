//! `hauski converse`: a recorded question in, a spoken answer out.

use crate::common;

use crate::common::{audio, hauski, require_gemma, run_ok, transcribe, wer};

#[test]
fn converse_on_jfk_writes_a_spoken_answer() {
    require_gemma();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("a.wav");
    let stdout = run_ok(
        hauski()
            .args(["converse", "--json", "--temperature", "0", "--input"])
            .arg(audio("jfk.wav"))
            .arg("--output")
            .arg(&out),
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(v["model"], "gemma-3-270m-q4_k_m", "the default LLM");
    let transcript = v["transcript"].as_str().expect("transcript");
    assert!(
        wer(
            "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.",
            transcript
        ) <= 0.05,
        "{transcript}"
    );
    let answer = v["answer"].as_str().expect("answer");
    assert!(
        answer.split_whitespace().count() >= 2,
        "a real answer: {answer:?}"
    );
    assert!(v["speech_end_to_first_audio_ms"].as_f64().expect("latency") > 0.0);
    for stage in ["vad_ms", "asr_ms", "llm_total_ms", "tts_total_ms"] {
        assert!(v["timings"][stage].as_f64().is_some(), "timing {stage}: {v}");
    }

    // The answer audio is speech that says the answer.
    let heard = transcribe(&out);
    let score = wer(answer, &heard);
    assert!(
        score <= 0.30,
        "WER {score:.3}: answer {answer:?}, heard {heard:?}"
    );
}

#[test]
fn leading_and_trailing_silence_is_cut_by_vad() {
    require_gemma();
    // Three seconds of silence either side of the question.
    let dir = tempfile::tempdir().expect("tempdir");
    let padded = dir.path().join("padded.wav");
    let silence = vec![0i16; 3 * 16_000];
    common::write_wav_16k(
        &padded,
        &[silence.clone(), common::jfk_samples(), silence].concat(),
    );

    let out = dir.path().join("a.wav");
    let stdout = run_ok(
        hauski()
            .args(["converse", "--json", "--max-tokens", "24", "--input"])
            .arg(&padded)
            .arg("--output")
            .arg(&out),
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    let transcript = v["transcript"].as_str().expect("transcript");
    assert!(transcript.contains("Americans"), "{transcript}");
    assert!(out.is_file());
}

#[test]
fn silent_recording_says_no_speech_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let silent = dir.path().join("silence.wav");
    common::write_wav_16k(&silent, &[0; 32_000]);
    let err = common::run_err(
        hauski()
            .args(["--llm", "tiny-random-llama", "converse", "--input"])
            .arg(&silent)
            .arg("--output")
            .arg(dir.path().join("a.wav")),
    );
    assert!(
        err.contains("no speech found") && err.contains("silence.wav"),
        "{err}"
    );
}
