//! `hauski profile list|show|set`: the audio profiles, and which one is active.
//! The running daemon is asked first (its control endpoint is the local API);
//! without one, the active profile saved in the data dir is used and changed.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use crate::cli::{DaemonArgs, ProfileAction};
use hauski::engines::App;
use hauski::profile_state::ActiveProfile;
use hauski_audio::live::DEFAULT_SINK;
use hauski_audio::live::sinks::Sinks;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// The daemon's answer to a profile request; `None` when no daemon answers.
fn ask_daemon(daemon: &DaemonArgs, set: Option<&str>) -> Result<Option<Value>> {
    let url = format!("{}/audio/profile", daemon.api.trim_end_matches('/'));
    let auth = daemon.token.as_ref().map(|t| format!("Bearer {t}"));
    let response = match set {
        None => {
            let mut request = agent().get(&url);
            if let Some(a) = &auth {
                request = request.header("Authorization", a);
            }
            request.call()
        }
        Some(name) => {
            let mut request = agent().post(&url).header("Content-Type", "application/json");
            if let Some(a) = &auth {
                request = request.header("Authorization", a);
            }
            request.send(json!({"profile": name}).to_string())
        }
    };
    let mut response = match response {
        Ok(r) => r,
        // Nobody listening: not an error, the saved profile is used instead.
        Err(ureq::Error::ConnectionFailed | ureq::Error::Io(_) | ureq::Error::HostNotFound) => {
            return Ok(None);
        }
        Err(e) => return Err(anyhow!("asking the daemon at {url} failed: {e}")),
    };
    let status = response.status().as_u16();
    let body: Value = serde_json::from_str(&response.body_mut().read_to_string()?)
        .with_context(|| format!("{url} did not answer JSON; is that a HausKI daemon?"))?;
    if status != 200 {
        let message = body["error"]["message"].as_str().unwrap_or("unknown error");
        bail!("{message}");
    }
    Ok(Some(body))
}

/// The active profile's name: the daemon's, else the saved one.
fn active_name(app: &App, daemon: &DaemonArgs) -> Result<String> {
    if let Some(body) = ask_daemon(daemon, None)? {
        return Ok(body["profile"].as_str().unwrap_or_default().to_string());
    }
    Ok(ActiveProfile::load(app.config.profiles.clone(), &app.data_dir).name())
}

/// Where a profile naming `sink` plays, in words.
pub fn plays_to(sinks: &Sinks, sink: &str) -> String {
    match sinks.resolve(sink) {
        Some(real) if real == sink => real,
        Some(real) if sink == DEFAULT_SINK => format!("{real} (the default sink)"),
        Some(real) => format!("{real} (the default sink: {sink} is not here)"),
        None => "nothing yet (PipeWire has no default sink)".into(),
    }
}

pub fn run(app: &App, action: ProfileAction) -> Result<()> {
    let profiles = &app.config.profiles;
    match action {
        ProfileAction::List { daemon } => {
            let active = active_name(app, &daemon)?;
            for (name, p) in &profiles.profiles {
                let mark = if *name == active { '*' } else { ' ' };
                println!(
                    "{mark} {name:<12} sink={:<12} volume={:.2} voice={} rate={:.2} variation={:.2} duck={} synonyms={}",
                    p.sink,
                    p.volume,
                    p.voice,
                    p.speaking_rate,
                    p.variation,
                    p.duck_others,
                    p.synonyms.join("|")
                );
            }
        }
        ProfileAction::Show { name, daemon } => {
            let active = active_name(app, &daemon)?;
            let name = name.unwrap_or_else(|| active.clone());
            let profile = profiles.profiles.get(&name).ok_or_else(|| {
                anyhow!(
                    "I don't know a profile called {name:?}; I know {}",
                    profiles.known_names()
                )
            })?;
            println!("{name}{}", if name == active { " (active)" } else { "" });
            print!("{}", serde_yaml::to_string(profile)?);
            // Where it really plays: `default` and a sink this machine
            // lacks both go to PipeWire's default sink.
            match hauski_audio::live::sinks::list(None) {
                Ok(sinks) => println!("plays to: {}", plays_to(&sinks, &profile.sink)),
                Err(e) => println!("plays to: unknown ({e})"),
            }
        }
        ProfileAction::Set { name, daemon } => match ask_daemon(&daemon, Some(&name))? {
            Some(body) => println!(
                "switched to {} (the running daemon plays there now)",
                body["profile"].as_str().unwrap_or(&name)
            ),
            None => {
                let saved = ActiveProfile::load(profiles.clone(), &app.data_dir).set(&name)?;
                println!("no daemon at {}; {saved} is saved for its next start", daemon.api);
            }
        },
    }
    Ok(())
}
