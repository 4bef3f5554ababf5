//! Helpers shared by the end-to-end tests: running the real `hauski` binary
//! against the real models in `../shared/models`, and word error rate.
#![allow(dead_code)]

pub mod adapters;
pub mod messengers;
pub mod nats;
pub mod pipewire;
pub mod satellite;
pub mod server;
pub mod voice;

#[allow(unused_imports)]
pub use pipewire::child::{Lines, Running};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/models`; a missing folder fails the test with the reason.
pub fn shared_models() -> PathBuf {
    let dir = repo().join("../shared/models");
    assert!(
        dir.join("whisper/ggml-tiny.en-q8_0.bin").is_file(),
        "the real models are missing: expected ../shared/models beside the repository (see README)"
    );
    dir
}

pub fn audio(name: &str) -> PathBuf {
    shared_models().join("audio").join(name)
}

/// The model roots the README uses: the project's own `.models` (Gemma, fetched
/// by scripts/fetch-gemma.sh) first, then what the project ships (`assets`: the
/// wake word), then the shared read-only models.
pub fn model_roots() -> String {
    format!(
        "{}:{}:{}",
        repo().join(".models").display(),
        repo().join("assets").display(),
        shared_models().display()
    )
}

pub fn require_gemma() {
    let gemma = repo().join(".models/llm/gemma-3-270m-q4_k_m.gguf");
    assert!(
        gemma.is_file(),
        "{} is missing: run scripts/fetch-gemma.sh (the README's first command does)",
        gemma.display()
    );
}

/// The venv's Python, which scripts/install-deps.sh makes with the real
/// clients the tests drive (openai, ollama, wyoming, nats-py, zeroconf).
pub fn python() -> PathBuf {
    let venv = repo().join(".venv/bin/python");
    assert!(
        venv.is_file(),
        "{} is missing: run scripts/install-deps.sh (it installs the Python clients the tests drive)",
        venv.display()
    );
    venv
}

/// Runs `tests/python/SCRIPT` with `args` and reads the one JSON document it
/// prints. A script that fails fails the test with its stderr and `context`
/// (the server's log).
pub fn python_json<I, S>(script: &str, args: I, context: &str) -> serde_json::Value
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let output = Command::new(python())
        .arg(repo().join("tests/python").join(script))
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "{script} failed:\n{}\nserver log:\n{context}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{script} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// A `hauski` command with the repository's config and model roots, and a
/// fresh data dir of its own, so no test sees another's (or the user's) memory.
pub fn hauski() -> Command {
    hauski_with_data(&fresh_dir("hauski-data"))
}

/// A number no other call in this test process gets.
pub fn unique() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

/// A new, empty folder under the test target dir.
pub fn fresh_dir(prefix: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{prefix}-{}-{}",
        std::process::id(),
        unique()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("test dir");
    dir
}

/// A `hauski` command whose memory and other data live in `data`.
pub fn hauski_with_data(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hauski"));
    cmd.current_dir(repo())
        .env("HAUSKI_MODELS", model_roots())
        .env("HAUSKI_CONFIG", repo())
        .env("HAUSKI_DATA", data)
        .env_remove("HAUSKI_LLM")
        .env_remove("RUST_LOG");
    cmd
}

/// Runs and asserts success, returning stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("hauski runs");
    assert!(
        out.status.success(),
        "hauski failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs and asserts a clean failure: non-zero exit, no panic. Returns stderr.
pub fn run_err(cmd: &mut Command) -> String {
    let out: Output = cmd.output().expect("hauski runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "expected failure, got success; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(out.status.code(), Some(1), "exit code; stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "must not panic: {stderr}");
    stderr
}

/// Writes 16 kHz mono 16-bit PCM.
pub fn write_wav_16k(path: &Path, samples: &[i16]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).expect("writer");
    for &s in samples {
        writer.write_sample(s).expect("sample");
    }
    writer.finalize().expect("finalize");
}

/// jfk.wav's samples (16 kHz mono).
pub fn jfk_samples() -> Vec<i16> {
    hound::WavReader::open(audio("jfk.wav"))
        .expect("jfk.wav")
        .into_samples::<i16>()
        .map(|s| s.expect("sample"))
        .collect()
}

pub fn transcribe(file: &Path) -> String {
    run_ok(hauski().arg("transcribe").arg(file)).trim().to_string()
}

/// Lowercase words without punctuation, with numbers spelled out the way
/// reference transcripts write them ("1813" → "eighteen thirteen").
pub fn normalize(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == '-')
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .flat_map(|w| match w.parse::<u32>() {
            Ok(n) => number_words(n),
            Err(_) => vec![w],
        })
        .collect()
}

fn number_words(n: u32) -> Vec<String> {
    const ONES: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 10] = [
        "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    let below_100 = |n: u32| -> Vec<String> {
        if n < 20 {
            vec![ONES[n as usize].to_string()]
        } else if n.is_multiple_of(10) {
            vec![TENS[(n / 10) as usize].to_string()]
        } else {
            vec![
                TENS[(n / 10) as usize].to_string(),
                ONES[(n % 10) as usize].to_string(),
            ]
        }
    };
    match n {
        0..=99 => below_100(n),
        // Years are read in pairs: 1813 → eighteen thirteen.
        1100..=1999 => [below_100(n / 100), below_100(n % 100)].concat(),
        _ => vec![n.to_string()],
    }
}

/// Word error rate of `hypothesis` against `reference` (Levenshtein over words).
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    let r = normalize(reference);
    let h = normalize(hypothesis);
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut cur = vec![i + 1; h.len() + 1];
        for (j, hw) in h.iter().enumerate() {
            let substitution = prev[j] + usize::from(rw != hw);
            cur[j + 1] = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[h.len()] as f64 / r.len() as f64
}

#[test]
fn wer_counts_word_edits() {
    assert_eq!(wer("the cat sat", "the cat sat"), 0.0);
    assert!((wer("the cat sat", "the dog sat") - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(wer("IN EIGHTEEN THIRTEEN", "In 1813,"), 0.0);
}

/// Speech from Debian's espeak-ng as 16 kHz mono samples: `voice`, words per
/// minute, pitch (0–99).
pub fn espeak(text: &str, voice: &str, speed: u32, pitch: u32) -> Vec<i16> {
    let dir = fresh_dir("espeak");
    let raw = dir.join("raw.wav");
    let status = Command::new("espeak-ng")
        .args([
            "-v",
            voice,
            "-s",
            &speed.to_string(),
            "-p",
            &pitch.to_string(),
            "-w",
        ])
        .arg(&raw)
        .arg(text)
        .status()
        .expect("espeak-ng is installed (scripts/install-deps.sh)");
    assert!(status.success(), "espeak-ng failed for voice {voice}");
    let samples = hauski_audio::load_mono(&raw, 16_000).expect("espeak-ng wrote a WAV");
    samples
        .iter()
        .map(|s| (s.clamp(-1.0, 1.0) * 32767.0) as i16)
        .collect()
}

/// `samples` with `seconds` of silence before and after.
pub fn padded(samples: &[i16], seconds: f32) -> Vec<i16> {
    let pad = vec![0i16; (16_000.0 * seconds) as usize];
    [pad.as_slice(), samples, pad.as_slice()].concat()
}
