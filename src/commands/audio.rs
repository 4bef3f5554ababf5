//! `hauski audio sinks`: PipeWire's sinks, the default one, and which
//! profile plays where, so a person can write a profile's `sink` and see
//! where answers will really go.

use anyhow::{Context, Result};
use serde_json::json;

use crate::cli::AudioAction;
use hauski::engines::App;

pub fn run(app: &App, action: AudioAction) -> Result<()> {
    let AudioAction::Sinks { json } = action;
    let sinks = hauski_audio::live::sinks::list(None)
        .context("cannot read PipeWire's sinks; is PipeWire running for this user?")?;
    let profiles = &app.config.profiles.profiles;
    if json {
        let listed: Vec<_> = sinks
            .sinks
            .iter()
            .map(|s| json!({"name": s.name, "description": s.description, "default": sinks.default.as_deref() == Some(&s.name)}))
            .collect();
        let plays: serde_json::Map<_, _> = profiles
            .iter()
            .map(|(name, p)| {
                (
                    name.clone(),
                    json!({"sink": p.sink, "plays_to": sinks.resolve(&p.sink)}),
                )
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"sinks": listed, "default": sinks.default, "profiles": plays})
            )?
        );
        return Ok(());
    }
    if sinks.sinks.is_empty() {
        println!("PipeWire has no sinks");
    }
    for sink in &sinks.sinks {
        let mark = if sinks.default.as_deref() == Some(&sink.name) {
            '*'
        } else {
            ' '
        };
        let users: Vec<&str> = profiles
            .iter()
            .filter(|(_, p)| sinks.resolve(&p.sink).as_deref() == Some(&sink.name))
            .map(|(name, _)| name.as_str())
            .collect();
        println!(
            "{mark} {:<32} {:<32} {}",
            sink.name,
            sink.description,
            if users.is_empty() {
                String::new()
            } else {
                format!("profiles: {}", users.join(", "))
            }
        );
    }
    for (name, profile) in profiles {
        println!(
            "{name:<12} sink={:<16} plays to {}",
            profile.sink,
            super::profile::plays_to(&sinks, &profile.sink)
        );
    }
    println!("(* the default sink; a profile may name any sink above, or `default`)");
    Ok(())
}
