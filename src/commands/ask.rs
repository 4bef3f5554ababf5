use std::io::Write;
use std::ops::ControlFlow;

use anyhow::Result;
use serde_json::json;

use crate::cli::GenerationArgs;
use hauski::assistant::context::prompt_for;
use hauski::engines::App;

pub fn run(app: &App, text: &str, args: &GenerationArgs, json: bool) -> Result<()> {
    let params = super::cli_generation_params(app, &args.requested())?;
    let model = app.load_llm()?;
    let mut conversation = model.conversation()?;
    let memory = app.open_memory()?;
    let context = super::context_for_command(app, &memory, text)?;
    let messages = prompt_for(args.system.as_deref(), text, &context);
    let stdout = std::io::stdout();
    let mut first = true;
    let stats = conversation.generate_chat(&messages, &params, |piece| {
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
            "time_to_first_token_ms": hauski::pipeline::ms(stats.time_to_first_token),
            "generation_tokens_per_s": stats.generation_tokens_per_s(),
            "sources": context.sources(),
            "context": context,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!();
        for source in &context.sources() {
            println!("source: {source}");
        }
    }
    Ok(())
}
