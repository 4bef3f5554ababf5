//! `hauski models list|verify|pull`.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};
use indicatif::ProgressBar;
use sha2::Digest;

use crate::cli::ModelsAction;
use hauski::config::{Checksum, ModelEntry};
use hauski::download::{Downloader, host_of, progress_bar};
use hauski::engines::App;

pub fn run(app: &App, action: ModelsAction) -> Result<()> {
    match action {
        ModelsAction::List { json } => list(app, json),
        ModelsAction::Verify { ids } => verify(app, &ids),
        ModelsAction::Pull { id } => pull(app, &id),
    }
}

fn list(app: &App, json: bool) -> Result<()> {
    let rows: Vec<_> = app
        .config
        .models
        .models
        .iter()
        .map(|m| {
            let path = app.model_path(m);
            (m, path.is_file(), path)
        })
        .collect();
    if json {
        let value: Vec<_> = rows
            .iter()
            .map(|(m, present, path)| {
                let mut v = serde_json::to_value(m).unwrap_or_default();
                v["present"] = (*present).into();
                v["resolved_path"] = path.display().to_string().into();
                v
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!("model roots: {}", app.roots.describe());
    println!("models from: {}", app.config.source_of("models.yml"));
    for (m, present, path) in rows {
        let state = if present { "present" } else { "missing" };
        println!(
            "{:<20} {:<11} {:<8} {:<8} {}",
            m.id,
            format!("{:?}", m.kind).to_lowercase(),
            m.quantisation,
            state,
            path.display()
        );
    }
    Ok(())
}

fn verify(app: &App, ids: &[String]) -> Result<()> {
    let models = &app.config.models;
    let chosen: Vec<&ModelEntry> = if ids.is_empty() {
        models.models.iter().collect()
    } else {
        ids.iter()
            .map(|id| {
                models.find(id).with_context(|| {
                    format!("unknown model {id:?}; models.yml knows: {}", models.known_ids())
                })
            })
            .collect::<Result<_>>()?
    };
    let mut bad = Vec::new();
    for m in chosen {
        let path = app.model_path(m);
        if !path.is_file() {
            // Only models asked for by name must be present.
            if !ids.is_empty() {
                bad.push(format!(
                    "{}: missing at {}; run `hauski models pull {}`",
                    m.id,
                    path.display(),
                    m.id
                ));
            } else {
                println!("{:<20} missing  {}", m.id, path.display());
            }
            continue;
        }
        let expected = m.checksum();
        let actual = checksum_file(&path, expected, Some(&m.id))?;
        if actual.eq_ignore_ascii_case(expected.hex()) {
            println!("{:<20} ok       {}", m.id, path.display());
            app.audit(
                "models",
                "model verified",
                &format!("{}: {} {}", m.id, expected.algorithm(), actual),
            );
        } else {
            println!("{:<20} MISMATCH {}", m.id, path.display());
            app.audit(
                "models",
                "model mismatch",
                &format!("{}: {} {}", m.id, expected.algorithm(), actual),
            );
            bad.push(format!(
                "{}: {} mismatch for {} (expected {}, found {}); the file is damaged or a different version: delete it and run `hauski models pull {}`",
                m.id,
                expected.algorithm(),
                path.display(),
                expected.hex(),
                actual,
                m.id
            ));
        }
    }
    if !bad.is_empty() {
        bail!("{}", bad.join("\n"));
    }
    Ok(())
}

fn pull(app: &App, id: &str) -> Result<()> {
    let models = &app.config.models;
    let entry = models
        .find(id)
        .with_context(|| format!("unknown model {id:?}; models.yml knows: {}", models.known_ids()))?;
    let existing = app.model_path(entry);
    let expected = entry.checksum();
    if existing.is_file() && checksum_file(&existing, expected, None)?.eq_ignore_ascii_case(expected.hex()) {
        println!("{id} is already present and verified at {}", existing.display());
        return Ok(());
    }
    if entry.url.is_empty() {
        bail!(
            "{id} has no download url: it comes from {}; {} is missing",
            entry.source,
            existing.display()
        );
    }
    let host =
        host_of(&entry.url).with_context(|| format!("model {id:?} has an invalid url {:?}", entry.url))?;
    if !app.config.routing.allows(&host) {
        app.audit(
            "models",
            "egress refused",
            &format!("{id}: {host} is not in policies/routing.yaml"),
        );
        bail!(
            "downloading {id} needs a connection to {host}, which {} does not allow; add `- host: {host}` under egress.allow in policies/routing.yaml to permit it",
            app.config.source_of("policies/routing.yaml")
        );
    }
    let purpose = app
        .config
        .routing
        .rule_for(&host)
        .and_then(|r| r.purpose.as_deref());
    tracing::info!(%host, purpose = purpose.unwrap_or("loopback"), model = id, "egress allowed by policy");
    app.audit(
        "models",
        "egress allowed",
        &format!("{id}: {host} ({})", purpose.unwrap_or("loopback")),
    );
    let dest = app.roots.primary().join(&entry.path);
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let part = dest.with_extension(format!(
        "{}.part",
        dest.extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    Downloader::new(&app.config.routing).fetch(&entry.url, &part, &format!("pulling {id}"))?;
    let actual = checksum_file(&part, expected, Some(id))?;
    if !actual.eq_ignore_ascii_case(expected.hex()) {
        app.audit(
            "models",
            "model mismatch",
            &format!("{id}: {} {actual}, discarded", expected.algorithm()),
        );
        let _ = std::fs::remove_file(&part);
        bail!(
            "{} mismatch for {id} downloaded from {} (expected {}, got {}); the download was discarded. Check the url and {} in models.yml",
            expected.algorithm(),
            entry.url,
            expected.hex(),
            actual,
            expected.algorithm()
        );
    }
    std::fs::rename(&part, &dest)
        .with_context(|| format!("cannot move the download to {}", dest.display()))?;
    app.audit(
        "models",
        "model verified",
        &format!("{id}: {} {actual}, downloaded", expected.algorithm()),
    );
    println!("{id}: downloaded and verified at {}", dest.display());
    Ok(())
}

/// The file's hash in the algorithm of `checksum`, hex.
fn checksum_file(path: &Path, checksum: Checksum<'_>, label: Option<&str>) -> Result<String> {
    match checksum {
        Checksum::Sha256(_) => hash_file::<sha2::Sha256>(path, label),
        Checksum::Sha1(_) => hash_file::<sha1::Sha1>(path, label),
    }
}

fn hash_file<H: Digest>(path: &Path, label: Option<&str>) -> Result<String> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let len = file.metadata().map_or(0, |m| m.len());
    let bar = match label {
        Some(l) if len > 64 * 1024 * 1024 => progress_bar(Some(len), &format!("checking {l}")),
        _ => ProgressBar::hidden(),
    };
    let mut hasher = H::new();
    let mut buf = vec![0u8; 1024 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    Ok(hex::encode(hasher.finalize()))
}
