use std::path::Path;

use anyhow::Result;
use hauski_voice::ASR_RATE;

use crate::cli::GenerationArgs;
use hauski::engines::App;
use hauski::pipeline::{self, Dialogue, Engines};

pub fn run(app: &App, input: &Path, output: &Path, args: &GenerationArgs, json: bool) -> Result<()> {
    let params = super::cli_generation_params(app, &args.requested())?;
    let samples = hauski_audio::load_mono(input, ASR_RATE)?;
    app.check_audio_length(input, samples.len(), ASR_RATE)?;
    let transcriber = app.load_transcriber()?;
    let voice = app.load_voice()?;
    let model = app.load_llm()?;
    let mut conversation = model.conversation()?;
    let memory = app.open_memory()?;
    let engines = Engines {
        transcriber: &transcriber,
        voice: &voice,
    };
    let dialogue = Dialogue {
        conversation: &mut conversation,
        memory: &memory,
        custom_system: args.system.as_deref(),
        context: &|question: &str| super::context_for_command(app, &memory, question),
        params: &params,
    };
    let outcome = pipeline::converse(
        &engines,
        dialogue,
        &samples,
        &input.display().to_string(),
        &app.vad_config(),
    )?;
    hauski_audio::write_wav(output, &outcome.audio, outcome.sample_rate)?;
    if json {
        let mut value = serde_json::to_value(&outcome)?;
        value["model"] = model.name().into();
        value["output"] = output.display().to_string().into();
        value["speech_end_to_first_audio_ms"] = outcome.timings.speech_end_to_first_audio_ms.into();
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        let t = &outcome.timings;
        println!("you said: {}", outcome.transcript);
        println!("answer:   {}", outcome.answer);
        if let Some(action) = &outcome.memory_action {
            println!("memory:   {action}");
        }
        for source in &outcome.sources {
            println!("source:   {source}");
        }
        println!("vad       {:8.1} ms", t.vad_ms);
        println!("asr       {:8.1} ms", t.asr_ms);
        println!(
            "llm       {:8.1} ms (first token {:.1} ms)",
            t.llm_total_ms, t.llm_first_token_ms
        );
        println!(
            "tts       {:8.1} ms (first sentence {:.1} ms)",
            t.tts_total_ms, t.tts_first_sentence_ms
        );
        println!(
            "speech end → first audio {:.1} ms",
            t.speech_end_to_first_audio_ms
        );
        println!("wrote {} ({:.1} s)", output.display(), outcome.answer_audio_s);
    }
    Ok(())
}
