use std::io::Write;
use std::ops::ControlFlow;

use anyhow::Result;
use hauski_brain::Turn;
use serde_json::json;

use crate::cli::GenerationArgs;
use crate::engines::App;
use crate::notes_context::notes_for;
use crate::pipeline::system_prompt;

pub fn run(app: &App, text: &str, args: &GenerationArgs, json: bool) -> Result<()> {
    let params = super::cli_generation_params(app, &args.requested())?;
    let model = app.load_llm()?;
    let mut conversation = model.conversation()?;
    let memory = app.open_memory()?;
    let recent = memory.recent(app.config.memory.prompt_entries)?;
    let notes = notes_for(app, text)?;
    let turn = Turn {
        system: system_prompt(args.system.as_deref(), &recent),
        user: text.to_string(),
        context: notes.prompt.clone(),
    };
    let stdout = std::io::stdout();
    let mut first = true;
    let stats = conversation.generate(&turn, &params, |piece| {
        let mut out = stdout.lock();
        // Streaming to a closed pipe (e.g. `| head`) ends generation quietly.
        let piece = if first { piece.trim_start() } else { piece };
        first = false;
        if json {
            return ControlFlow::Continue(());
        }
        match out.write_all(piece.as_bytes()).and_then(|()| out.flush()) {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(()),
        }
    })?;
    if json {
        let value = json!({
            "model": model.name(),
            "text": stats.text,
            "finish_reason": format!("{:?}", stats.finish).to_lowercase(),
            "prompt_tokens": stats.prompt_tokens,
            "prompt_tokens_evaluated": stats.prompt_tokens_evaluated,
            "completion_tokens": stats.completion_tokens,
            "time_to_first_token_ms": crate::pipeline::ms(stats.time_to_first_token),
            "generation_tokens_per_s": stats.generation_tokens_per_s(),
            "sources": notes.sources,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!();
        for source in &notes.sources {
            println!("source: {source}");
        }
    }
    Ok(())
}
