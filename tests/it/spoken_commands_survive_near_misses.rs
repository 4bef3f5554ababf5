//! Profile switches said by espeak-ng voices and speeds no other test uses,
//! through the live loop's own speech recognition (Whisper, biased towards
//! the profile names) and intent parser (near-miss names matched). The same
//! clips without the bias and the near-miss matching are the baseline.

use crate::common;

use hauski::assistant::Allow;
use hauski::assistant::intents::{Intent, ProfileIntent, recognise};
use hauski::config::{Config, ProfilesFile};
use hauski_voice::Transcriber;

/// (voice, words per minute, pitch): British, Lancashire, West Midlands,
/// Caribbean, New York, and variants of the default voice, slow to fast.
const VOICES: &[(&str, u32, u32)] = &[
    ("en-gb", 120, 50),
    ("en-uk", 140, 50),
    ("en-gb-x-gbclan", 150, 40),
    ("en-gb-x-gbcwmd", 150, 60),
    ("en-029", 160, 50),
    ("en-us-nyc", 140, 50),
    ("en+f2", 165, 70),
    ("en+m7", 200, 30),
    ("en-us+f5", 130, 60),
];

/// What is said, and the profile it must switch to (`None`: no switch).
const PHRASES: &[(&str, Option<&str>)] = &[
    ("Switch to the kitchen profile.", Some("kueche")),
    ("Switch to the night profile.", Some("nacht")),
    ("Switch to the living room profile.", Some("wohnzimmer")),
    ("Change to the kitchen profile.", Some("kueche")),
    ("Use the headphones profile.", Some("kopfhoerer")),
    ("What is the capital of France?", None),
    ("Set a timer for ten minutes.", None),
];

fn profiles() -> ProfilesFile {
    let empty = tempfile::tempdir().expect("tempdir");
    Config::load(Some(empty.path()))
        .expect("embedded defaults")
        .profiles
}

fn switched_to(intent: Option<Intent>) -> Option<String> {
    match intent {
        Some(Intent::Profile(ProfileIntent::Switch(name))) => Some(name),
        _ => None,
    }
}

/// Exact names only: the parser before near-miss matching.
fn exact_only(text: &str, profiles: &ProfilesFile) -> Option<String> {
    let said = text.to_lowercase();
    profiles
        .profiles
        .iter()
        .find(|(_, p)| {
            p.synonyms
                .iter()
                .any(|s| said.contains(&format!("{} profile", s.to_lowercase())))
        })
        .map(|(name, _)| name.clone())
}

#[test]
fn profile_switches_survive_voices_and_speeds_whisper_mishears() {
    let profiles = profiles();
    let model = common::shared_models().join("whisper/ggml-tiny.en-q8_0.bin");
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let plain = Transcriber::load(&model, threads, "en").expect("whisper model");
    let biased = Transcriber::load(&model, threads, "en").expect("whisper model");
    biased.expect_words(&hauski::assistant::intents::expected_words(&profiles));

    let (mut right, mut baseline_right, mut total) = (0, 0, 0);
    let mut wrong = Vec::new();
    for &(voice, speed, pitch) in VOICES {
        for &(phrase, wanted) in PHRASES {
            let samples: Vec<f32> = common::padded(&common::espeak(phrase, voice, speed, pitch), 0.2)
                .iter()
                .map(|&s| f32::from(s) / 32768.0)
                .collect();
            let heard = biased
                .transcribe_live(&samples, 16_000, None)
                .expect("transcribes")
                .text;
            let got = switched_to(recognise(&heard, Allow::ALL, Some(&profiles)));
            let plain_heard = plain
                .transcribe_live(&samples, 16_000, None)
                .expect("transcribes")
                .text;
            let baseline = exact_only(&plain_heard, &profiles);
            total += 1;
            let wanted = wanted.map(str::to_string);
            if got == wanted {
                right += 1;
            } else {
                wrong.push(format!("{voice}/{speed}: {phrase:?} heard {heard:?} → {got:?}"));
            }
            if baseline == wanted {
                baseline_right += 1;
            }
            // A question is never taken for a switch, by either.
            if wanted.is_none() {
                assert_eq!(got, None, "{voice}/{speed}: {phrase:?} heard {heard:?}");
            }
        }
    }
    eprintln!(
        "profile commands right: {right}/{total} biased + near-miss matching, {baseline_right}/{total} plain Whisper + exact names"
    );
    for w in &wrong {
        eprintln!("  missed: {w}");
    }
    assert!(right > baseline_right, "{right} vs baseline {baseline_right}");
    // Measured 56/63 (plain: 49/63); the misses were heard as other words
    // entirely ("change the location profile"), out of reach of matching.
    assert!(
        right * 100 >= total * 85,
        "{right}/{total} right (≥ 85 % wanted); missed:\n{}",
        wrong.join("\n")
    );
}
