//! `hauski memory list|add|pin|forget|purge`.

use anyhow::{Result, anyhow};
use hauski_brain::memory::{Layer, MemoryEntry};
use serde_json::json;

use crate::cli::MemoryAction;
use hauski::engines::App;

pub fn run(app: &App, action: MemoryAction) -> Result<()> {
    let store = app.open_memory()?;
    match action {
        MemoryAction::List { json } => {
            let entries = store.list()?;
            if json {
                let value: Vec<_> = entries.iter().map(entry_json).collect();
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else if entries.is_empty() {
                println!("nothing remembered");
            } else {
                for e in &entries {
                    println!(
                        "{:>5}  {:<7} {}{}",
                        e.id,
                        e.layer,
                        if e.pinned { "📌 " } else { "" },
                        e.text
                    );
                }
            }
        }
        MemoryAction::Add { text, layer } => {
            let layer: Layer = layer.parse().map_err(|e: String| anyhow!(e))?;
            let id = store.remember(layer, &text)?;
            println!("remembered as {id} ({layer})");
        }
        MemoryAction::Pin { id } => {
            store.pin(id)?;
            println!("pinned {id}");
        }
        MemoryAction::Forget { id } => {
            store.forget(id)?;
            println!("forgot {id}");
        }
        MemoryAction::Purge => {
            let n = store.purge_expired()?;
            println!("purged {n} expired entries");
        }
    }
    Ok(())
}

fn entry_json(e: &MemoryEntry) -> serde_json::Value {
    json!({
        "id": e.id,
        "layer": e.layer.as_str(),
        "text": e.text,
        "created_ms": e.created_ms,
        "expires_ms": e.expires_ms,
        "pinned": e.pinned,
    })
}
