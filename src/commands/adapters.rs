//! `hauski adapters list|enable|disable` and `hauski secrets set`: which
//! messenger adapters the daemon polls, their settings (`adapters.yaml`
//! under the data dir), and their credentials (the age-encrypted vault).

use std::collections::BTreeMap;
use std::io::Read;

use anyhow::{Context, Result, bail};

use crate::cli::{AdaptersAction, SecretsAction};
use hauski::assistant::messengers::AdapterSettings;
use hauski::engines::App;
use hauski_skills::host::manifest::Manifest;
use hauski_skills::vault::Vault;

/// Every adapter: the built-in ones and those among the owner's skills.
fn adapters(app: &App) -> Vec<Manifest> {
    let owners = std::fs::read_dir(app.data_dir.join("skills"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("skill.yaml")).ok())
        .filter_map(|text| Manifest::parse(&text).ok());
    hauski_skills::builtin::skills()
        .into_iter()
        .map(|(manifest, _)| manifest)
        .chain(owners)
        .filter(|m| m.adapter.is_some())
        .collect()
}

pub fn run(app: &App, action: AdaptersAction) -> Result<()> {
    let known = adapters(app);
    let mut settings = AdapterSettings::load(&app.data_dir)?;
    match action {
        AdaptersAction::List => list(app, &known, &settings),
        AdaptersAction::Enable {
            name,
            settings: pairs,
        } => {
            let manifest = find(&known, &name)?;
            let pairs = pairs
                .iter()
                .map(|pair| {
                    pair.split_once('=')
                        .filter(|(k, _)| !k.trim().is_empty())
                        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                        .with_context(|| format!("--set {pair:?}: write it as KEY=VALUE"))
                })
                .collect::<Result<BTreeMap<_, _>>>()?;
            let keys: Vec<String> = pairs.keys().cloned().collect();
            settings.set(&name, true, pairs);
            settings.save(&app.data_dir)?;
            app.audit(
                "adapters",
                "adapter enabled",
                &format!("{name}; settings set: {}", keys.join(", ")),
            );
            println!(
                "{name} is enabled; the daemon polls it from its next start (systemctl --user restart hauski)."
            );
            if manifest
                .capabilities
                .contains(&hauski_skills::host::manifest::Capability::Http)
            {
                println!(
                    "It reaches only the hosts policies/routing.yaml grants it (`skills: [{name}]`); \
                     its credentials go in with `hauski secrets set {name} KEY` (the value on stdin)."
                );
            }
            Ok(())
        }
        AdaptersAction::Disable { name } => {
            find(&known, &name)?;
            settings.set(&name, false, BTreeMap::new());
            settings.save(&app.data_dir)?;
            app.audit("adapters", "adapter disabled", &name);
            println!("{name} is disabled; its settings and credentials are kept.");
            Ok(())
        }
    }
}

fn find<'a>(known: &'a [Manifest], name: &str) -> Result<&'a Manifest> {
    match known.iter().find(|m| m.name == name) {
        Some(manifest) => Ok(manifest),
        None => {
            let names: Vec<&str> = known.iter().map(|m| m.name.as_str()).collect();
            bail!(
                "there is no adapter named {name:?}; there are: {}",
                names.join(", ")
            )
        }
    }
}

fn list(app: &App, known: &[Manifest], settings: &AdapterSettings) -> Result<()> {
    // Without an identity yet, no secret has been set.
    let vault = Vault::open(&app.data_dir).ok();
    println!(
        "{:<10} {:<9} {:<10} {:<40} SECRETS SET",
        "ADAPTER", "STATE", "MESSENGER", "SETTINGS"
    );
    for manifest in known {
        let state = settings.get(&manifest.name);
        let shown: Vec<String> = state
            .map(|s| s.settings.iter().map(|(k, v)| format!("{k}={v}")).collect())
            .unwrap_or_default();
        let secrets = match &vault {
            Some(vault) => vault
                .secret_names(&manifest.name)
                .with_context(|| format!("cannot read {}'s secrets", manifest.name))?,
            None => Vec::new(),
        };
        println!(
            "{:<10} {:<9} {:<10} {:<40} {}",
            manifest.name,
            if settings.is_enabled(&manifest.name) {
                "enabled"
            } else {
                "disabled"
            },
            manifest.adapter.as_ref().map_or("", |a| a.source.as_str()),
            if shown.is_empty() {
                "-".to_string()
            } else {
                shown.join(" ")
            },
            if secrets.is_empty() {
                "-".to_string()
            } else {
                secrets.join(", ")
            },
        );
    }
    Ok(())
}

pub fn secrets(app: &App, action: SecretsAction) -> Result<()> {
    match action {
        SecretsAction::Set { adapter, key } => {
            let mut value = String::new();
            std::io::stdin()
                .read_to_string(&mut value)
                .context("cannot read the secret from stdin")?;
            let value = value.strip_suffix('\n').unwrap_or(&value);
            let value = value.strip_suffix('\r').unwrap_or(value);
            let vault = Vault::open_or_create(&app.data_dir)?;
            vault.set_secret(&adapter, &key, value)?;
            app.audit("secrets", "secret set", &format!("{adapter}: {key}"));
            println!(
                "{adapter}'s {key} is stored in the vault ({} bytes, encrypted to {}).",
                value.len(),
                app.data_dir.join("identity.txt").display()
            );
            Ok(())
        }
    }
}
