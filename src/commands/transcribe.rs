use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use hauski_voice::ASR_RATE;
use serde::Serialize;

use hauski::engines::App;

#[derive(Serialize)]
struct Output<'a> {
    text: &'a str,
    segments: &'a [hauski_voice::Segment],
    audio_s: f64,
    elapsed_s: f64,
}

pub fn run(app: &App, file: &Path, json: bool) -> Result<()> {
    let started = Instant::now();
    let samples = hauski_audio::load_mono(file, ASR_RATE)?;
    app.check_audio_length(file, samples.len(), ASR_RATE)?;
    let transcriber = app.load_transcriber()?;
    let transcript = transcriber.transcribe(&samples, ASR_RATE)?;
    let elapsed_s = started.elapsed().as_secs_f64();
    if json {
        let out = Output {
            text: &transcript.text,
            segments: &transcript.segments,
            audio_s: samples.len() as f64 / f64::from(ASR_RATE),
            elapsed_s,
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{}", transcript.text);
    }
    Ok(())
}
