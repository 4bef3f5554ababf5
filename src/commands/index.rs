//! `hauski index add|status` and `hauski search`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use hauski_brain::notes::IndexReport;
use hauski_brain::retrieval::{Filter, TextQuery, VectorStore};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::cli::IndexAction;
use hauski::engines::App;
use hauski::notes_context::{NotesIndex, lower_thread_priority, watch_notes};

pub fn run(app: &App, action: IndexAction) -> Result<()> {
    match action {
        IndexAction::Add { dir, json } => add(app, &dir, json),
        IndexAction::Watch { dirs } => watch(app, dirs),
        IndexAction::Refresh { json } => refresh(app, json),
        IndexAction::Status { json } => status(app, json),
    }
}

/// Every indexed folder, brought up to date in turn, at low priority.
fn refresh(app: &App, json: bool) -> Result<()> {
    lower_thread_priority();
    let embedder = app.load_embedder()?;
    let (_, manifest) = app.open_index(embedder.dimensions())?;
    if manifest.roots.is_empty() {
        println!("nothing is indexed yet; add a folder with `hauski index add DIR`");
        return Ok(());
    }
    drop(embedder);
    let mut folders = Vec::new();
    for root in &manifest.roots {
        if root.is_dir() {
            let report = index_folder(app, root)?;
            if !json {
                print_report(root, &report);
            }
            folders.push(json!({"folder": root, "report": report}));
        } else {
            eprintln!(
                "{} is gone; its notes stay in the index until it returns",
                root.display()
            );
        }
    }
    if json {
        // One document for the whole run, a report per folder.
        println!("{}", serde_json::to_string_pretty(&folders)?);
    }
    Ok(())
}

fn add(app: &App, dir: &Path, json: bool) -> Result<()> {
    let report = index_folder(app, dir)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(dir, &report);
    }
    Ok(())
}

fn print_report(dir: &Path, report: &IndexReport) {
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

/// Brings `dir` up to date in the index, with a progress bar.
fn index_folder(app: &App, dir: &Path) -> Result<IndexReport> {
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
    Ok(report)
}

fn watch(app: &App, dirs: Vec<PathBuf>) -> Result<()> {
    lower_thread_priority();
    let index = NotesIndex::open(app, Arc::new(app.load_embedder()?))?;
    let roots = if dirs.is_empty() { index.roots() } else { dirs };
    if roots.is_empty() {
        bail!("no folder to watch: index one first with `hauski index add DIR`, or name it here");
    }
    let count = roots.len();
    watch_notes(
        &index,
        &roots,
        |root, r| {
            println!(
                "indexed {}: {} added, {} updated, {} removed",
                root.display(),
                r.added,
                r.updated,
                r.removed
            );
            let _ = std::io::stdout().flush();
        },
        || {
            println!("watching {count} folder(s)");
            let _ = std::io::stdout().flush();
        },
    )
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
    // The query is embedded while the words are searched.
    let embed = |text: &str| embedder.embed_one(text).map_err(|e| e.to_string());
    let query = TextQuery {
        text,
        k,
        filter: Filter {
            path_prefix,
            ..Filter::default()
        },
    };
    let hits = store
        .search_text(&query, &embed)
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
