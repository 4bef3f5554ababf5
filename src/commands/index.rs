//! `hauski index add|status` and `hauski search`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use hauski_brain::notes::Manifest;
use hauski_brain::retrieval::{Filter, HybridStore, Query, VectorStore};
use indicatif::{ProgressBar, ProgressStyle};
use notify::{RecursiveMode, Watcher};
use serde_json::json;

use crate::cli::IndexAction;
use crate::engines::App;

pub fn run(app: &App, action: IndexAction) -> Result<()> {
    match action {
        IndexAction::Add { dir, json } => add(app, &dir, json),
        IndexAction::Watch { dirs } => watch(app, dirs),
        IndexAction::Status { json } => status(app, json),
    }
}

fn add(app: &App, dir: &Path, json: bool) -> Result<()> {
    if !dir.is_dir() {
        bail!(
            "{} is not a folder; pass the folder that holds your Markdown notes",
            dir.display()
        );
    }
    let embedder = app.load_embedder()?;
    let (mut store, mut manifest) = app.open_index(embedder.dimensions())?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("indexing [{bar:30}] {pos}/{len} notes ({eta}) {wide_msg}")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let report =
        hauski_brain::notes::index_folder(dir, &mut store, &embedder, &mut manifest, |done, total, file| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(file.rsplit('/').next().unwrap_or(file).to_string());
        })?;
    bar.finish_and_clear();
    manifest.save(&app.index_dir().join("manifest.json"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{}: {} added, {} updated, {} unchanged, {} removed, {} chunks indexed",
            dir.display(),
            report.added,
            report.updated,
            report.unchanged,
            report.removed,
            report.chunks
        );
        for (file, why) in &report.skipped {
            println!("skipped {file}: {why}");
        }
    }
    Ok(())
}

/// How long the folder must be quiet after a change before re-indexing: an
/// editor's save is several events (temp file, rename, metadata).
const QUIET: Duration = Duration::from_millis(400);

fn watch(app: &App, dirs: Vec<PathBuf>) -> Result<()> {
    // Re-indexing competes with the voice loop for two cores: it yields.
    // SAFETY: nice() only changes this process's scheduling priority.
    unsafe {
        libc::nice(10);
    }
    let embedder = app.load_embedder()?;
    let (mut store, mut manifest) = app.open_index(embedder.dimensions())?;
    let roots: Vec<PathBuf> = if dirs.is_empty() {
        manifest.roots.clone()
    } else {
        dirs
    };
    if roots.is_empty() {
        bail!("no folder to watch: index one first with `hauski index add DIR`, or name it here");
    }
    // Events carry absolute, resolved paths; so must the roots they are matched to.
    let roots = roots
        .iter()
        .map(|r| {
            r.canonicalize()
                .with_context(|| format!("{} is not a folder", r.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let manifest_path = app.index_dir().join("manifest.json");
    let (tx, rx) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(tx).context("cannot start the file watcher")?;
    for root in &roots {
        watcher
            .watch(root, RecursiveMode::Recursive)
            .with_context(|| format!("cannot watch {}", root.display()))?;
    }
    let reindex = |root: &Path, store: &mut HybridStore, manifest: &mut Manifest| -> Result<()> {
        let _span = tracing::info_span!("reindex", root = %root.display()).entered();
        let r = hauski_brain::notes::index_folder(root, store, &embedder, manifest, |_, _, _| {})?;
        manifest.save(&manifest_path)?;
        println!(
            "indexed {}: {} added, {} updated, {} removed",
            root.display(),
            r.added,
            r.updated,
            r.removed
        );
        std::io::stdout().flush()?;
        Ok(())
    };
    // Catch up with what changed while nobody watched.
    for root in &roots {
        reindex(root, &mut store, &mut manifest)?;
    }
    println!("watching {} folder(s)", roots.len());
    std::io::stdout().flush()?;

    let is_note = |p: &Path| p.extension().is_some_and(|e| e == "md" || e == "markdown");
    while let Ok(first) = rx.recv() {
        let mut dirty: Vec<PathBuf> = Vec::new();
        let mut note = |event: notify::Result<notify::Event>| match event {
            Ok(event) => {
                for path in event.paths.iter().filter(|p| is_note(p)) {
                    if let Some(root) = roots.iter().find(|r| path.starts_with(r))
                        && !dirty.contains(root)
                    {
                        dirty.push(root.clone());
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "file watcher error"),
        };
        note(first);
        while let Ok(event) = rx.recv_timeout(QUIET) {
            note(event);
        }
        for root in dirty {
            if let Err(e) = reindex(&root, &mut store, &mut manifest) {
                // One bad pass must not end the watch; the next change retries.
                tracing::error!(root = %root.display(), error = %e, "re-indexing failed");
            }
        }
    }
    Ok(())
}

fn status(app: &App, json: bool) -> Result<()> {
    let embedder = app.load_embedder()?;
    let before = rss_bytes();
    let started = std::time::Instant::now();
    let (store, manifest) = app.open_index(embedder.dimensions())?;
    let load_s = started.elapsed().as_secs_f64();
    let memory_bytes = rss_bytes().saturating_sub(before);
    let stats = store.stats();
    if json {
        let value = json!({
            "index": app.index_dir().display().to_string(),
            "roots": manifest.roots,
            "notes": manifest.files.len(),
            "chunks": stats.documents,
            "dimensions": stats.dimensions,
            "bytes_on_disk": stats.bytes_on_disk,
            "load_s": load_s,
            "memory_bytes": memory_bytes,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("index:  {}", app.index_dir().display());
        for root in &manifest.roots {
            println!("folder: {}", root.display());
        }
        println!(
            "notes:  {}, chunks: {}, {:.1} MB on disk, {:.0} MB in memory, loaded in {load_s:.2} s",
            manifest.files.len(),
            stats.documents,
            stats.bytes_on_disk as f64 / 1e6,
            memory_bytes as f64 / 1e6
        );
    }
    Ok(())
}

pub fn search(app: &App, text: &str, k: usize, path_prefix: Option<String>, json: bool) -> Result<()> {
    if text.trim().is_empty() {
        bail!("nothing to search for: QUERY is empty");
    }
    if k == 0 || k > 100 {
        bail!("-k {k} is out of range; ask for 1 to 100 results");
    }
    let embedder = app.load_embedder()?;
    let (store, _) = app.open_index(embedder.dimensions())?;
    let embedding = embedder.embed_one(text)?;
    let hits = store
        .search(&Query {
            text,
            embedding: &embedding,
            k,
            filter: Filter {
                path_prefix,
                ..Filter::default()
            },
        })
        .context("searching the notes index")?;
    if json {
        let value: Vec<_> = hits
            .iter()
            .map(|h| {
                json!({
                    "path": h.fields.get("path"),
                    "heading": h.fields.get("heading"),
                    "score": h.score,
                    "text": h.text,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else if hits.is_empty() {
        println!("no notes found; index a folder with `hauski index add DIR`");
    } else {
        for (rank, h) in hits.iter().enumerate() {
            let path = h.fields.get("path").map_or("", String::as_str);
            let heading = h.fields.get("heading").map_or("", String::as_str);
            let snippet: String = h.text.chars().take(160).collect();
            println!("{}. {path} › {heading}  ({:.4})", rank + 1, h.score);
            println!("   {}", snippet.replace('\n', " "));
        }
    }
    Ok(())
}

/// Resident memory of this process, from /proc (Linux); 0 elsewhere.
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        })
        .map_or(0, |kb| kb * 1024)
}
