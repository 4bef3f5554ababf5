//! `hauski transcribe` on the reference recordings, scored by word error rate.

use crate::common;

use crate::common::{audio, hauski, run_ok, transcribe, wer};

const JFK: &str = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.";
const LIBRISPEECH: &str = "IF THE READER WILL EXCUSE ME I WILL SAY NOTHING OF MY ANTECEDENTS NOR OF THE CIRCUMSTANCES WHICH LED ME TO LEAVE MY NATIVE COUNTRY THE NARRATIVE WOULD BE TEDIOUS TO HIM AND PAINFUL TO MYSELF";

#[test]
fn jfk_wav_transcribes_within_5_percent_wer() {
    let text = transcribe(&audio("jfk.wav"));
    let score = wer(JFK, &text);
    assert!(score <= 0.05, "WER {score:.3}: {text}");
}

#[test]
fn librispeech_flac_transcribes_within_15_percent_wer() {
    let text = transcribe(&audio("2412-153948-0000.flac"));
    let score = wer(LIBRISPEECH, &text);
    assert!(score <= 0.15, "WER {score:.3}: {text}");
}

#[test]
fn ljspeech_22khz_wav_is_resampled_and_transcribed() {
    let text = transcribe(&audio("LJ002-0020.wav"));
    let score = wer("IN EIGHTEEN THIRTEEN", &text);
    assert!(score <= 0.15, "WER {score:.3}: {text}");
}

#[test]
fn stereo_float_44k_input_is_accepted() {
    // The same speech as 44.1 kHz stereo float: mixed down and resampled.
    let samples: Vec<f32> = common::jfk_samples()
        .into_iter()
        .map(|s| f32::from(s) / 32768.0)
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("jfk-stereo-float.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(&path, spec).expect("writer");
    // Naive 16 → 44.1 kHz by linear interpolation: good enough to carry speech.
    let n_out = samples.len() * 44_100 / 16_000;
    for i in 0..n_out {
        let x = i as f64 * 16_000.0 / 44_100.0;
        let j = x as usize;
        let frac = (x - j as f64) as f32;
        let a = samples[j.min(samples.len() - 1)];
        let b = samples[(j + 1).min(samples.len() - 1)];
        let v = a + (b - a) * frac;
        writer.write_sample(v).expect("left");
        writer.write_sample(v).expect("right");
    }
    writer.finalize().expect("finalize");
    let text = transcribe(&path);
    let score = wer(JFK, &text);
    assert!(score <= 0.05, "WER {score:.3}: {text}");
}

#[test]
fn json_output_has_text_segments_and_timings() {
    let out = run_ok(hauski().args(["transcribe", "--json"]).arg(audio("jfk.wav")));
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert!(v["text"].as_str().is_some_and(|t| t.contains("Americans")), "{v}");
    let segments = v["segments"].as_array().expect("segments");
    assert!(!segments.is_empty());
    for s in segments {
        let (start, end) = (
            s["start"].as_f64().expect("start"),
            s["end"].as_f64().expect("end"),
        );
        assert!(start <= end && end <= 11.5, "{s}");
        assert!(s["text"].as_str().is_some());
    }
    let audio_s = v["audio_s"].as_f64().expect("audio_s");
    assert!((audio_s - 11.0).abs() < 0.1, "audio_s {audio_s}");
    assert!(v["elapsed_s"].as_f64().expect("elapsed_s") > 0.0);
}

#[test]
fn works_from_the_checkout_without_any_environment() {
    // The acceptance command as a user types it in the repository: the
    // checkout's models.yml names .models and ../shared/models as roots.
    let out = run_ok(
        hauski()
            .env_remove("HAUSKI_MODELS")
            .env_remove("HAUSKI_CONFIG")
            .args(["transcribe", "../shared/models/audio/jfk.wav"]),
    );
    let score = wer(JFK, &out);
    assert!(score <= 0.05, "WER {score:.3}: {out}");
}
