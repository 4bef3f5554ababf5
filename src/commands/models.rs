//! `hauski models list|verify|pull`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use crate::cli::ModelsAction;
use hauski::config::ModelEntry;
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
        let actual = sha256_file(&path, Some(&m.id))?;
        if actual.eq_ignore_ascii_case(&m.sha256) {
            println!("{:<20} ok       {}", m.id, path.display());
        } else {
            println!("{:<20} MISMATCH {}", m.id, path.display());
            bad.push(format!(
                "{}: sha256 mismatch for {} (expected {}, found {}); the file is damaged or a different version: delete it and run `hauski models pull {}`",
                m.id,
                path.display(),
                m.sha256,
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
    if existing.is_file() && sha256_file(&existing, None)?.eq_ignore_ascii_case(&entry.sha256) {
        println!("{id} is already present and verified at {}", existing.display());
        return Ok(());
    }
    if entry.url.is_empty() {
        bail!(
            "{id} is made here, not downloaded: {} is missing; run scripts/enrol-wake.sh to make it again",
            existing.display()
        );
    }
    let host =
        url_host(&entry.url).with_context(|| format!("model {id:?} has an invalid url {:?}", entry.url))?;
    if !app.config.routing.allows(&host) {
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
    download(&entry.url, &part, id)?;
    let actual = sha256_file(&part, Some(id))?;
    if !actual.eq_ignore_ascii_case(&entry.sha256) {
        let _ = std::fs::remove_file(&part);
        bail!(
            "sha256 mismatch for {id} downloaded from {} (expected {}, got {}); the download was discarded. Check the url and sha256 in models.yml",
            entry.url,
            entry.sha256,
            actual
        );
    }
    std::fs::rename(&part, &dest)
        .with_context(|| format!("cannot move the download to {}", dest.display()))?;
    println!("{id}: downloaded and verified at {}", dest.display());
    Ok(())
}

/// Downloads `url` into `part`, resuming from its current length with an HTTP
/// Range request; a server that ignores the range gets a fresh download.
fn download(url: &str, part: &Path, id: &str) -> Result<()> {
    let have = std::fs::metadata(part).map_or(0, |m| m.len());
    let mut request = ureq::get(url);
    if have > 0 {
        request = request.header("Range", format!("bytes={have}-"));
    }
    let response = match request.call() {
        Ok(r) => r,
        // 416: the part file already holds everything there is.
        Err(ureq::Error::StatusCode(416)) if have > 0 => return Ok(()),
        Err(e) => {
            bail!("downloading {id} from {url} failed: {e}; check the network and the url in models.yml")
        }
    };
    let resumed = response.status() == 206;
    let offset = if resumed { have } else { 0 };
    let length = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut file = if resumed {
        OpenOptions::new().append(true).open(part)
    } else {
        File::create(part)
    }
    .with_context(|| format!("cannot write {}", part.display()))?;

    let bar = progress_bar(length.map(|l| l + offset), &format!("pulling {id}"));
    bar.set_position(offset);
    if resumed {
        bar.println(format!("resuming {id} at {offset} bytes"));
    }
    let mut reader = response.into_body().into_reader();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = reader.read(&mut buf).with_context(|| {
            format!("downloading {id} was interrupted; run the same command again to resume")
        })?;
        if n == 0 {
            break;
        }
        file.write_all(&buf[..n])
            .with_context(|| format!("cannot write {}", part.display()))?;
        bar.inc(n as u64);
    }
    file.sync_all()?;
    bar.finish_and_clear();
    Ok(())
}

fn sha256_file(path: &Path, label: Option<&str>) -> Result<String> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let len = file.metadata().map_or(0, |m| m.len());
    let bar = match label {
        Some(l) if len > 64 * 1024 * 1024 => progress_bar(Some(len), &format!("checking {l}")),
        _ => ProgressBar::hidden(),
    };
    let mut hasher = Sha256::new();
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

fn progress_bar(len: Option<u64>, message: &str) -> ProgressBar {
    let bar = match len {
        Some(l) => ProgressBar::new(l),
        None => ProgressBar::new_spinner(),
    };
    let style =
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(message.to_string());
    bar
}

/// The host of an http(s) URL, without port or credentials.
fn url_host(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host = if host_port.starts_with('[') {
        host_port.split(']').next().map(|h| format!("{h}]"))?
    } else {
        host_port.split(':').next()?.to_string()
    };
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::url_host;

    #[test]
    fn hosts_are_extracted() {
        assert_eq!(
            url_host("https://huggingface.co/a/b").as_deref(),
            Some("huggingface.co")
        );
        assert_eq!(
            url_host("http://127.0.0.1:8080/x.bin").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(url_host("http://[::1]:80/x").as_deref(), Some("[::1]"));
        assert_eq!(url_host("ftp://x"), None);
    }
}
