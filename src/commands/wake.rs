//! `hauski wake test`: the wake words heard in a recording, with their times.

use anyhow::Result;
use hauski_voice::ASR_RATE;

use crate::cli::WakeAction;
use hauski::engines::App;
use hauski::wake_words::WakeWords;

pub fn run(app: &App, action: WakeAction) -> Result<()> {
    match action {
        WakeAction::Test {
            file,
            wake_file,
            json,
        } => {
            let samples = hauski_audio::load_mono(&file, ASR_RATE)?;
            let words = WakeWords::load(app);
            let engine = match wake_file {
                Some(path) => words.engine_for_file(&path),
                None => words.engine(&[]),
            }
            .map_err(anyhow::Error::msg)?;
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
