//! `hauski wake enrol|test`: make a wake word from recordings, try one on a recording.

use anyhow::{Context, Result, bail};
use hauski_voice::ASR_RATE;
use hauski_voice::wake::{WakeEngine, WakeSettings};

use crate::cli::WakeAction;
use hauski::engines::App;
use hauski::wake_words::{WakeWords, find_wake_engine};

pub fn run(app: &App, action: WakeAction) -> Result<()> {
    match action {
        WakeAction::Enrol { name, out, samples } => {
            if name.trim().is_empty() || name.contains(['/', '=']) {
                bail!("--name {name:?} must be a plain name like hey-hauski");
            }
            let out = out.unwrap_or_else(|| format!("{name}.rpw").into());
            let program = find_wake_engine().context(
                "the wake-word engine hauski-wake is not built; run scripts/install-deps.sh or set HAUSKI_WAKE_ENGINE",
            )?;
            // rustpotter reads the WAVs itself and expects its own 16 kHz mono:
            // every sample is converted first, whatever its rate and channels.
            let staging = tempfile::tempdir().context("cannot make a temporary folder")?;
            let mut converted = Vec::with_capacity(samples.len());
            for (i, sample) in samples.iter().enumerate() {
                let audio = hauski_audio::load_mono(sample, ASR_RATE)?;
                let path = staging.path().join(format!("{i}.wav"));
                hauski_audio::write_wav(&path, &audio, ASR_RATE)?;
                converted.push(path);
            }
            WakeEngine::enrol(&program, &name, &converted, &out)?;
            println!("wrote {} from {} samples", out.display(), samples.len());
        }
        WakeAction::Test {
            file,
            wake_file,
            json,
        } => {
            let samples = hauski_audio::load_mono(&file, ASR_RATE)?;
            let engine = match wake_file {
                Some(path) => {
                    let name = path
                        .file_stem()
                        .map_or_else(|| "wake".to_string(), |s| s.to_string_lossy().into_owned());
                    let program =
                        find_wake_engine().context("the wake-word engine hauski-wake is not built")?;
                    WakeEngine::new(program, vec![(name, path)], WakeSettings::default())?
                }
                None => WakeWords::load(app).engine(&[]).map_err(anyhow::Error::msg)?,
            };
            let detections = engine.scan(&samples)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&detections)?);
            } else if detections.is_empty() {
                println!("no wake word in {}", file.display());
            } else {
                for d in &detections {
                    println!(
                        "{} at {:.2} s (score {:.2})",
                        d.name,
                        d.timestamp_ms as f64 / 1000.0,
                        d.score
                    );
                }
            }
        }
    }
    Ok(())
}
