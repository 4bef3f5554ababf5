//! One module per subcommand; each takes the parsed flags and an [`App`].

mod adapters;
mod ask;
mod audio;
mod audit;
mod config;
mod converse;
mod index;
mod install;
mod memory;
mod models;
mod profile;
mod recordings;
mod say;
mod serve;
mod top;
mod transcribe;
mod wake;

use std::sync::Arc;

use anyhow::Result;
use hauski_brain::GenerationParams;
use hauski_brain::memory::MemoryStore;
use hauski_brain::notes::Manifest;

use hauski::assistant::context::{ContextSources, TurnContext, gather};
use hauski::notes_context::NotesIndex;

use crate::cli::{Cli, Command};
use hauski::assistant::generation::{Door, Requested, generation_params};
use hauski::engines::App;

/// The memories and notes that fit `question`, for `ask` and `converse`.
/// Free when there are neither: the embedder only loads when needed.
fn context_for_command(app: &App, memory: &MemoryStore, question: &str) -> Result<TurnContext> {
    let manifest = Manifest::load(&app.index_dir().join("manifest.json"))?;
    let has_notes = !manifest.files.is_empty() && app.config.limits.llm.notes_top_k > 0;
    let has_memories = app.config.memory.prompt_entries > 0 && memory.has_entries()?;
    if !has_notes && !has_memories {
        return Ok(TurnContext::default());
    }
    let embedder = Arc::new(app.load_embedder()?);
    let notes = if has_notes {
        Some(NotesIndex::open(app, embedder.clone())?)
    } else {
        None
    };
    gather(
        &ContextSources {
            embedder: &embedder,
            memory: Some(memory),
            notes: notes.as_ref(),
            memory_entries: app.config.memory.prompt_entries,
            memory_chars: app.config.memory.prompt_chars,
        },
        question,
    )
}

/// Generation settings for a command: `requested` within policies/limits.yaml;
/// an out-of-bounds flag is named as the user typed it.
fn cli_generation_params(app: &App, requested: &Requested) -> Result<GenerationParams> {
    generation_params(&app.config.limits, Door::Cli, requested)
        .map_err(|e| anyhow::anyhow!("--{}: {}", e.param.replace('_', "-"), e.message))
}

pub fn run(cli: Cli) -> Result<()> {
    let global = &cli.global;
    // Loads the config; `config` and `uninstall` work without (it may be broken).
    let app = || App::new(&global.app_options());
    match cli.command {
        Command::Config { action } => config::run(global, action),
        Command::Uninstall { target, purge } => install::uninstall(global, &target, purge),
        Command::Transcribe { file, json } => transcribe::run(&app()?, &file, json),
        Command::Say { text, output, rate } => say::run(&app()?, &text, &output, rate),
        Command::Ask {
            text,
            generation,
            json,
        } => ask::run(&app()?, &text, &generation, json),
        Command::Converse {
            input,
            output,
            generation,
            json,
        } => converse::run(&app()?, &input, &output, &generation, json),
        Command::Models { action } => models::run(&app()?, action),
        Command::Index { action } => index::run(&app()?, action),
        Command::Search {
            query,
            k,
            path_prefix,
            json,
        } => index::search(&app()?, &query, k, path_prefix, json),
        Command::Memory { action } => memory::run(&app()?, action),
        Command::Profile { action } => profile::run(&app()?, action),
        Command::Top { once, daemon } => top::run(&app()?, once, &daemon),
        Command::Audit { action } => audit::run(&app()?, action),
        Command::Adapters { action } => adapters::run(&app()?, action),
        Command::Secrets { action } => adapters::secrets(&app()?, action),
        Command::Recordings { action } => recordings::run(&app()?, action),
        Command::Audio { action } => audio::run(&app()?, action),
        Command::Wake { action } => wake::run(&app()?, action),
        Command::Serve(args) => serve::run(app()?, &args),
        Command::Install(args) => install::install(global, &app()?, &args),
    }
}
