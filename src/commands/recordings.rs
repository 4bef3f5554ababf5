//! `hauski recordings list|play|purge`: the utterances the daemon kept
//! (only with `recordings.keep: true`), decrypted with the vault's identity.

use std::io::Write;

use anyhow::{Context, Result, bail};

use crate::cli::RecordingsAction;
use hauski::engines::App;
use hauski::recordings::Recordings;
use hauski_brain::memory::{Clock, SystemClock};

pub fn run(app: &App, action: RecordingsAction) -> Result<()> {
    let policy = &app.config.memory.recordings;
    match action {
        RecordingsAction::List => {
            let recordings = Recordings::open_existing(&app.data_dir, None);
            let kept = match &recordings {
                Ok(recordings) => recordings.list()?,
                // No identity yet: nothing was ever kept.
                Err(_) => Vec::new(),
            };
            if kept.is_empty() {
                let state = if policy.keep {
                    "on"
                } else {
                    "off (recordings.keep in policies/memory.yaml)"
                };
                println!("no recordings kept; keeping them is {state}");
            }
            for recording in kept {
                let when = jiff::Timestamp::from_millisecond(recording.at_ms)
                    .map_or_else(|_| "?".to_string(), |t| t.to_string());
                let bytes = std::fs::metadata(&recording.path).map_or(0, |m| m.len());
                println!("{}  {when}  {:.1} s", recording.name, bytes as f64 / 32_000.0);
            }
            Ok(())
        }
        RecordingsAction::Play { name, output } => {
            let wav = Recordings::open_existing(&app.data_dir, None)?.open_wav(&name)?;
            match output {
                Some(path) => {
                    std::fs::write(&path, &wav)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    println!("{name} decrypted into {}", path.display());
                }
                None => play(&wav)?,
            }
            Ok(())
        }
        RecordingsAction::Purge { all } => {
            let ttl = policy.ttl_ms().map_err(anyhow::Error::msg)?;
            let recordings = match Recordings::open_existing(&app.data_dir, ttl) {
                Ok(recordings) => recordings,
                Err(_) => {
                    println!("no recordings kept");
                    return Ok(());
                }
            };
            let removed = recordings.purge(SystemClock.now_ms(), all)?;
            println!("{removed} recordings removed");
            Ok(())
        }
    }
}

/// Plays a WAV through `pw-play`, fed on stdin: the decrypted audio never
/// touches the disk.
fn play(wav: &[u8]) -> Result<()> {
    let mut player = std::process::Command::new("pw-play")
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .context("cannot run pw-play (Debian: apt install pipewire-bin); or pass --output FILE")?;
    player
        .stdin
        .take()
        .context("pw-play took no input")?
        .write_all(wav)
        .context("pw-play stopped reading")?;
    let status = player.wait()?;
    if !status.success() {
        bail!("pw-play failed ({status})");
    }
    Ok(())
}
