//! How well "hey hauski" (assets/wakeword/hey-hauski.rpw, enrolled by
//! scripts/enrol-wake.sh) works: detections on synthesised variants that were
//! not used for enrolment (other voices, speeds, pitches, some with noise), and
//! false accepts on more than ten minutes of speech without the wake word.
//! The live loop's settings (eager reports) are the ones measured.

use crate::common;

use std::path::PathBuf;

use crate::common::{audio, espeak, padded, repo};
use hauski_voice::wake::{WakeEngine, WakeSettings};
use serde_json::json;

const RATE: usize = 16_000;

fn engine() -> WakeEngine {
    let program = PathBuf::from(env!("CARGO_BIN_EXE_hauski")).with_file_name("hauski-wake");
    WakeEngine::new(
        program,
        vec![("hey-hauski".into(), repo().join("assets/wakeword/hey-hauski.rpw"))],
        WakeSettings {
            eager: true,
            ..WakeSettings::default()
        },
    )
    .expect("hauski-wake is built (scripts/build-wake-engine.sh) and the wake word is in assets/")
}

fn to_f32(samples: &[i16]) -> Vec<f32> {
    samples.iter().map(|&s| f32::from(s) / 32768.0).collect()
}

/// Deterministic quiet noise, as a room adds.
fn with_noise(samples: &[f32], level: f32, seed: u64) -> Vec<f32> {
    let mut state = seed;
    samples
        .iter()
        .map(|s| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let n = ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5;
            s + n * level
        })
        .collect()
}

/// Piper (through `hauski say`) at `rate`, as 16 kHz mono.
fn piper(text: &str, rate: f32) -> Vec<f32> {
    let file = common::fresh_dir("piper").join("say.wav");
    common::run_ok(
        common::hauski()
            .args(["say", text, "--rate", &rate.to_string(), "--output"])
            .arg(&file),
    );
    hauski_audio::load_mono(&file, RATE as u32).expect("say wrote a WAV")
}

/// Sentences for the negative set: household talk, none with the wake word.
const SENTENCES: &[&str] = &[
    "Could you put the kettle on, please?",
    "The weather tomorrow will be cloudy with some rain in the afternoon.",
    "I think we need more milk, eggs and a loaf of bread.",
    "Have you seen my keys? I left them on the kitchen table.",
    "The children are going to their grandparents this weekend.",
    "Turn the heating down a little, it is too warm in here.",
    "How many minutes does the pasta need to cook?",
    "Remember to water the plants before we leave on holiday.",
    "The football match starts at eight o'clock tonight.",
    "She said the package should arrive on Thursday morning.",
    "We could paint the hallway a lighter colour next spring.",
    "Hey, how is your new job going so far?",
    "Hello there, it is nice to see you again.",
    "The house next door has been sold to a young family.",
    "Please close the window, the neighbours are having a party.",
    "What time does the bakery open on Sundays?",
];

#[test]
fn hey_hauski_is_heard_in_unseen_voices_and_rarely_elsewhere() {
    let engine = engine();

    // Positives: voice, speed, pitch, noise — none of these combinations was enrolled.
    let mut variants: Vec<(String, Vec<f32>)> = Vec::new();
    let voices = [
        "en-us",
        "en",
        "en-gb-x-rp",
        "en-us+f3",
        "en+m3",
        "en-us+m2",
        "en+f4",
        "en-gb-scotland",
    ];
    let styles = [(130, 35), (185, 60), (160, 75)];
    for (i, voice) in voices.iter().enumerate() {
        for (j, (speed, pitch)) in styles.iter().enumerate() {
            let clean = to_f32(&espeak("hey hauski", voice, *speed, *pitch));
            let samples = if (i + j) % 3 == 0 {
                with_noise(&clean, 0.02, (i * 7 + j) as u64)
            } else {
                clean
            };
            variants.push((format!("espeak {voice} {speed} wpm pitch {pitch}"), samples));
        }
    }
    for rate in [0.8, 1.25] {
        variants.push((format!("piper rate {rate}"), piper("Hey Hauski.", rate)));
    }
    let mut missed = Vec::new();
    for (name, samples) in &variants {
        let stream = [vec![0.0; RATE / 2], samples.clone(), vec![0.0; RATE / 2]].concat();
        if engine.scan(&stream).expect("scan").is_empty() {
            missed.push(name.clone());
        }
    }
    let detected = variants.len() - missed.len();
    let rate = detected as f64 / variants.len() as f64;

    // Negatives: the reference clips, Piper and many espeak voices reading household talk.
    let mut negative: Vec<f32> = Vec::new();
    for clip in ["jfk.wav", "2412-153948-0000.flac", "LJ002-0020.wav"] {
        negative.extend(hauski_audio::load_mono(&audio(clip), RATE as u32).expect("clip"));
        negative.extend(vec![0.0; RATE / 2]);
    }
    negative.extend(piper(&SENTENCES[..8].join(" "), 1.0));
    let readers = [
        "en-us",
        "en",
        "en-gb-x-rp",
        "en-us+f3",
        "en+m3",
        "en-029",
        "en-gb-scotland",
        "en+f4",
    ];
    'fill: for round in 0.. {
        for (i, sentence) in SENTENCES.iter().enumerate() {
            let voice = readers[(i + round) % readers.len()];
            negative.extend(to_f32(&padded(
                &espeak(sentence, voice, 150 + (round as u32 % 4) * 15, 50),
                0.3,
            )));
            if negative.len() >= 10 * 60 * RATE + RATE * 10 {
                break 'fill;
            }
        }
    }
    let minutes = negative.len() as f64 / RATE as f64 / 60.0;
    let false_accepts = engine.scan(&negative).expect("scan");
    let per_hour = false_accepts.len() as f64 * 60.0 / minutes;

    let report = json!({
        "variants": variants.len(),
        "detected": detected,
        "detection_rate": rate,
        "missed": missed,
        "negative_minutes": minutes,
        "false_accepts": false_accepts.len(),
        "false_accepts_per_hour": per_hour,
        "false_accept_times_s": false_accepts.iter().map(|d| d.timestamp_ms as f64 / 1000.0).collect::<Vec<_>>(),
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    if let Some(target) = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).parent() {
        let dir = target.join("bench");
        std::fs::create_dir_all(&dir).expect("target/bench");
        std::fs::write(dir.join("wake-quality.json"), report.to_string()).expect("wake-quality.json");
    }
    assert!(variants.len() >= 20 && minutes >= 10.0);
    assert!(
        rate >= 0.9,
        "detected {detected} of {}; missed {missed:?}",
        variants.len()
    );
}
