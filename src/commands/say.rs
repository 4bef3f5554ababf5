use std::path::Path;

use anyhow::{Result, bail};

use hauski::engines::App;

pub fn run(app: &App, text: &str, output: &Path, rate: f32) -> Result<()> {
    if text.trim().is_empty() {
        bail!(
            "nothing to say: TEXT is empty; pass the words to speak, e.g. `hauski say \"Dinner is ready.\" -o out.wav`"
        );
    }
    let max = app.config.limits.tts.max_text_chars;
    if text.chars().count() > max {
        bail!(
            "TEXT has {} characters, over the limit of {max} (tts.max_text_chars in policies/limits.yaml)",
            text.chars().count()
        );
    }
    if !(0.25..=4.0).contains(&rate) {
        bail!("--rate {rate} is out of range; use 0.25 to 4.0");
    }
    let mut voice = app.load_voice()?;
    voice.set_speaking_rate(rate);
    let audio = voice.synthesize_all(text)?;
    hauski_audio::write_wav(output, &audio, voice.sample_rate())?;
    eprintln!(
        "wrote {} ({:.1} s at {} Hz)",
        output.display(),
        audio.len() as f64 / f64::from(voice.sample_rate()),
        voice.sample_rate()
    );
    Ok(())
}
