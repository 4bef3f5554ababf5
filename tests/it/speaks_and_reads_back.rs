//! `hauski say` writes speech that `hauski transcribe` reads back.

use crate::common::{hauski, run_err, run_ok, transcribe, wer};

#[test]
fn say_round_trips_through_asr_within_20_percent_wer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.wav");
    let text = "The kitchen timer is done.";
    run_ok(hauski().args(["say", text, "-o"]).arg(&out));
    let spec = hound::WavReader::open(&out).expect("a WAV file").spec();
    assert_eq!(spec.sample_rate, 22_050, "the voice's own rate");
    assert_eq!(spec.channels, 1);
    let heard = transcribe(&out);
    let score = wer(text, &heard);
    assert!(score <= 0.20, "WER {score:.3}: heard {heard:?}");
}

#[test]
fn several_sentences_are_all_spoken_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("two.wav");
    let text = "Good morning. The weather today is sunny and warm.";
    run_ok(hauski().args(["say", text, "-o"]).arg(&out));
    let heard = transcribe(&out);
    let score = wer(text, &heard);
    assert!(score <= 0.20, "WER {score:.3}: heard {heard:?}");
}

#[test]
fn empty_text_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("never.wav");
    let err = run_err(hauski().args(["say", "", "-o"]).arg(&out));
    assert!(err.contains("nothing to say"), "{err}");
    assert!(!out.exists(), "no file is written for empty text");
}

#[test]
fn the_active_profile_sets_volume() {
    // A quiet night profile must give quieter audio than the default.
    let config = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        config.path().join("profiles.yaml"),
        "active: nacht\nprofiles:\n  nacht: {sink: living, volume: 0.25, voice: piper-joe, speaking_rate: 1.0}\n",
    )
    .expect("write");
    let dir = tempfile::tempdir().expect("tempdir");
    let (loud, quiet) = (dir.path().join("loud.wav"), dir.path().join("quiet.wav"));
    run_ok(hauski().args(["say", "Good night.", "-o"]).arg(&loud));
    run_ok(
        hauski()
            .env("HAUSKI_CONFIG", config.path())
            .args(["say", "Good night.", "-o"])
            .arg(&quiet),
    );
    let peak = |p: &std::path::Path| {
        hound::WavReader::open(p)
            .expect("wav")
            .into_samples::<i16>()
            .map(|s| i32::from(s.expect("sample")).abs())
            .max()
            .unwrap_or(0)
    };
    let (l, q) = (peak(&loud), peak(&quiet));
    assert!(f64::from(q) < f64::from(l) * 0.4, "quiet peak {q} vs default {l}");
}
