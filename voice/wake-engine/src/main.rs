//! `hauski-wake`: rustpotter behind a small command line, so the daemon can
//! use it from a child process (see Cargo.toml for why it is not linked in).
//!
//! - `hauski-wake enrol --name NAME --out FILE SAMPLE.wav...` makes a wake-word
//!   reference (averaged MFCC templates) from recordings of the phrase.
//! - `hauski-wake detect NAME=FILE... [--threshold T] [--avg-threshold A] [--min-scores N] [--eager]`
//!   reads 16 kHz mono f32 little-endian PCM on stdin and prints one JSON line
//!   per detection, `{"name","timestamp_ms","score","avg_score"}`, as it
//!   happens; at end of input it prints `{"end": true, "samples": N}`.

use std::collections::HashMap;
use std::io::{BufWriter, Read, Write};
use std::process::ExitCode;

use rustpotter::{
    Rustpotter, RustpotterConfig, SampleFormat, VADMode, WakewordLoad, WakewordRef,
    WakewordRefBuildFromBuffers, WakewordSave,
};
use serde_json::json;

const RATE: usize = 16_000;
const MFCC_SIZE: u16 = 16;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("enrol") => enrol(&args[1..]),
        Some("detect") => detect(&args[1..]),
        _ => Err(
            "usage: hauski-wake enrol --name NAME --out FILE SAMPLE.wav... | hauski-wake detect NAME=FILE..."
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Pulls `--flag value` out of `args`.
fn take_flag(args: &mut Vec<String>, flag: &str) -> Result<Option<String>, String> {
    match args.iter().position(|a| a == flag) {
        None => Ok(None),
        Some(i) if i + 1 < args.len() => {
            let value = args.remove(i + 1);
            args.remove(i);
            Ok(Some(value))
        }
        Some(_) => Err(format!("{flag} needs a value")),
    }
}

fn number<T: std::str::FromStr>(args: &mut Vec<String>, flag: &str, default: T) -> Result<T, String> {
    match take_flag(args, flag)? {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| format!("{flag} {v:?} is not a number")),
    }
}

fn enrol(args: &[String]) -> Result<(), String> {
    let mut args = args.to_vec();
    let name = take_flag(&mut args, "--name")?.ok_or("--name is required")?;
    let out = take_flag(&mut args, "--out")?.ok_or("--out is required")?;
    // Without these, the reference carries no thresholds of its own and the
    // detector's (HausKI's policies/limits.yaml) decide, tunable without re-enrolling.
    let threshold: Option<f32> = take_flag(&mut args, "--threshold")?
        .map(|v| {
            v.parse()
                .map_err(|_| format!("--threshold {v:?} is not a number"))
        })
        .transpose()?;
    let avg_threshold: Option<f32> = take_flag(&mut args, "--avg-threshold")?
        .map(|v| {
            v.parse()
                .map_err(|_| format!("--avg-threshold {v:?} is not a number"))
        })
        .transpose()?;
    if args.len() < 3 {
        return Err(format!(
            "{} sample(s) given; enrol from at least 3 recordings of the wake word",
            args.len()
        ));
    }
    let mut samples = HashMap::new();
    for file in &args {
        let bytes = std::fs::read(file).map_err(|e| format!("cannot read {file}: {e}"))?;
        if bytes.len() < 44 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return Err(format!("{file} is not a WAV file; enrol from WAV recordings"));
        }
        samples.insert(file.clone(), bytes);
    }
    let reference =
        WakewordRef::new_from_sample_buffers(name.clone(), threshold, avg_threshold, samples, MFCC_SIZE)
            .map_err(|e| format!("enrolment failed: {e}"))?;
    reference
        .save_to_file(&out)
        .map_err(|e| format!("cannot write {out}: {e}"))?;
    println!("{}", json!({"name": name, "out": out, "samples": args.len()}));
    Ok(())
}

fn detect(args: &[String]) -> Result<(), String> {
    let mut args = args.to_vec();
    let mut config = RustpotterConfig::default();
    config.fmt.sample_rate = RATE;
    config.fmt.sample_format = SampleFormat::F32;
    config.fmt.channels = 1;
    config.detector.threshold = number(&mut args, "--threshold", config.detector.threshold)?;
    config.detector.avg_threshold = number(&mut args, "--avg-threshold", config.detector.avg_threshold)?;
    config.detector.min_scores = number(&mut args, "--min-scores", config.detector.min_scores)?;
    if let Some(i) = args.iter().position(|a| a == "--eager") {
        args.remove(i);
        config.detector.eager = true;
    }
    // rustpotter's own energy gate: frames are still turned into MFCCs and
    // kept, but compared with the wake words only while there is voice (or a
    // partial detection). Scoring every frame of silence cost about 8 % of a
    // core; `--no-vad` turns the gate off.
    match args.iter().position(|a| a == "--no-vad") {
        Some(i) => {
            args.remove(i);
        }
        None => config.detector.vad_mode = Some(VADMode::Easy),
    }
    let mut engine = Rustpotter::new(&config)?;
    if args.is_empty() {
        return Err("name at least one wake word as NAME=FILE".into());
    }
    for spec in &args {
        let (name, file) = spec
            .split_once('=')
            .ok_or_else(|| format!("{spec:?} is not NAME=FILE"))?;
        let bytes = std::fs::read(file).map_err(|e| format!("cannot read wake word {file}: {e}"))?;
        WakewordRef::load_from_buffer(&bytes)
            .map_err(|e| format!("{file} is not a rustpotter wake-word reference: {e}"))?;
        engine
            .add_wakeword_from_buffer(name, &bytes)
            .map_err(|e| format!("{file}: {e}"))?;
    }
    let frame = engine.get_samples_per_frame();
    let mut stdin = std::io::stdin().lock();
    let mut stdout = BufWriter::new(std::io::stdout().lock());
    let mut bytes = vec![0u8; frame * 4];
    let mut seen = 0usize;
    loop {
        // A frame at a time; a short read at the end is padded with silence.
        let mut filled = 0;
        while filled < bytes.len() {
            match stdin.read(&mut bytes[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("reading audio: {e}")),
            }
        }
        if filled == 0 {
            break;
        }
        bytes[filled..].fill(0);
        let samples: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        seen += filled / 4;
        report(&mut engine, samples, seen, &mut stdout)?;
        if filled < bytes.len() {
            break;
        }
    }
    // Half a second of silence lets a wake word at the very end complete.
    for _ in 0..(RATE / 2).div_ceil(frame) {
        report(&mut engine, vec![0.0; frame], seen, &mut stdout)?;
    }
    writeln!(stdout, "{}", json!({"end": true, "samples": seen}))
        .and_then(|()| stdout.flush())
        .map_err(|e| e.to_string())
}

/// Feeds one frame; prints a detection if it completes one.
fn report(
    engine: &mut Rustpotter,
    samples: Vec<f32>,
    seen: usize,
    out: &mut impl Write,
) -> Result<(), String> {
    if let Some(d) = engine.process_samples(samples) {
        let line = json!({
            "name": d.name,
            "timestamp_ms": (seen * 1000 / RATE) as u64,
            "score": d.score,
            "avg_score": d.avg_score,
        });
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
