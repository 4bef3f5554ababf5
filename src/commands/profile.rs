//! `hauski profile list|show`: the audio profiles as configured.

use anyhow::{Result, anyhow};

use crate::cli::ProfileAction;
use crate::engines::App;

pub fn run(app: &App, action: ProfileAction) -> Result<()> {
    let profiles = &app.config.profiles;
    match action {
        ProfileAction::List => {
            for (name, p) in &profiles.profiles {
                let mark = if *name == profiles.active { '*' } else { ' ' };
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
        ProfileAction::Show { name } => {
            let name = name.unwrap_or_else(|| profiles.active.clone());
            let profile = profiles.profiles.get(&name).ok_or_else(|| {
                anyhow!(
                    "I don't know a profile called {name:?}; I know {}",
                    profiles.known_names()
                )
            })?;
            println!("{name}{}", if name == profiles.active { " (active)" } else { "" });
            print!("{}", serde_yaml::to_string(profile)?);
        }
    }
    Ok(())
}
