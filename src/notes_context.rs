//! The owner's notes at runtime: one loaded index that answers questions
//! (retrieval for answers, cut to the token budget of policies/limits.yaml)
//! and that the folder watcher keeps up to date. The CLI opens one per
//! command; the daemon opens one and shares it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use hauski_brain::Embedder;
use hauski_brain::notes::{IndexReport, Manifest};
use hauski_brain::retrieval::{Filter, HybridStore, QueryEmbedder, TextQuery, VectorStore};
use notify::{RecursiveMode, Watcher};
use serde::Serialize;

use crate::engines::App;

/// A note that went into a prompt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsedNote {
    /// "path › heading".
    pub source: String,
    pub score: f32,
}

/// The notes found for one question.
#[derive(Debug, Default, Clone)]
pub struct NotesContext {
    /// The text put before the question; empty when nothing was found.
    pub prompt: String,
    /// Each note used, best first.
    pub notes: Vec<UsedNote>,
}

/// The loaded notes index with the embedder that fills and queries it.
pub struct NotesIndex {
    embedder: Arc<Embedder>,
    store: Mutex<HybridStore>,
    manifest: Mutex<Manifest>,
    manifest_path: PathBuf,
    top_k: usize,
    notes_tokens: usize,
}

impl NotesIndex {
    pub fn open(app: &App, embedder: Arc<Embedder>) -> Result<Self> {
        let (store, manifest) = app.open_index(embedder.dimensions())?;
        let limits = &app.config.limits.llm;
        Ok(Self {
            embedder,
            store: Mutex::new(store),
            manifest: Mutex::new(manifest),
            manifest_path: app.index_dir().join("manifest.json"),
            top_k: limits.notes_top_k,
            notes_tokens: limits.notes_tokens,
        })
    }

    /// The folders indexed so far.
    pub fn roots(&self) -> Vec<PathBuf> {
        self.manifest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .roots
            .clone()
    }

    pub fn is_empty(&self) -> bool {
        self.manifest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .files
            .is_empty()
    }

    /// The notes that fit `question`, within the prompt's token budget;
    /// `embed` (the index's own model) is called while the words are searched.
    pub fn retrieve(&self, question: &str, embed: &QueryEmbedder<'_>) -> Result<NotesContext> {
        if self.top_k == 0 || self.is_empty() {
            return Ok(NotesContext::default());
        }
        let _span = tracing::info_span!("retrieve", k = self.top_k).entered();
        let hits = self.store.lock().unwrap_or_else(|p| p.into_inner()).search_text(
            &TextQuery {
                text: question,
                k: self.top_k,
                filter: Filter::default(),
            },
            embed,
        )?;
        // About four characters per token.
        let mut budget = self.notes_tokens * 4;
        let mut context = NotesContext {
            prompt: "From the owner's notes:\n".to_string(),
            ..NotesContext::default()
        };
        for hit in hits {
            let path = hit.fields.get("path").map_or("", String::as_str);
            let name = path.rsplit('/').next().unwrap_or(path);
            let heading = hit.fields.get("heading").map_or("", String::as_str);
            let line = format!("- ({name}) {}\n", hit.text.trim().replace('\n', " "));
            if line.len() > budget {
                break;
            }
            budget -= line.len();
            context.prompt.push_str(&line);
            context.notes.push(UsedNote {
                source: format!("{path} › {heading}"),
                score: hit.score,
            });
        }
        if context.notes.is_empty() {
            return Ok(NotesContext::default());
        }
        Ok(context)
    }

    /// Brings the index up to date with `root` and saves the manifest.
    pub fn reindex(&self, root: &Path) -> Result<IndexReport> {
        let _span = tracing::info_span!("reindex", root = %root.display()).entered();
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        let mut manifest = self.manifest.lock().unwrap_or_else(|p| p.into_inner());
        let report = hauski_brain::notes::index_folder(
            root,
            &mut *store,
            &self.embedder,
            &mut manifest,
            |_, _, _| {},
        )?;
        manifest.save(&self.manifest_path)?;
        Ok(report)
    }
}

/// How long the folder must be quiet after a change before re-indexing: an
/// editor's save is several events (temp file, rename, metadata).
const QUIET: Duration = Duration::from_millis(400);

/// Keeps `index` up to date with `roots` until the watcher fails: catches up
/// first, then re-indexes a folder whenever a note in it changes.
/// `on_report` hears of every pass (the CLI prints it, the daemon logs it).
pub fn watch_notes(
    index: &NotesIndex,
    roots: &[PathBuf],
    mut on_report: impl FnMut(&Path, &IndexReport),
    on_ready: impl FnOnce(),
) -> Result<()> {
    // Events carry absolute, resolved paths; so must the roots they are matched to.
    let roots = roots
        .iter()
        .map(|r| {
            r.canonicalize()
                .with_context(|| format!("{} is not a folder", r.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(tx).context("cannot start the file watcher")?;
    for root in &roots {
        watcher
            .watch(root, RecursiveMode::Recursive)
            .with_context(|| format!("cannot watch {}", root.display()))?;
    }
    // Catch up with what changed while nobody watched. Re-indexing is batch
    // work: it waits while the GPU guard holds it back.
    let gate = crate::gpu_guard::batch_gate();
    for root in &roots {
        gate.wait_for_turn();
        let report = index.reindex(root)?;
        on_report(root, &report);
    }
    on_ready();

    while let Ok(first) = rx.recv() {
        let mut dirty: Vec<PathBuf> = Vec::new();
        let mut note = |event: notify::Result<notify::Event>| match event {
            Ok(event) => {
                for root in roots_changed_by(&event, &roots) {
                    if !dirty.contains(root) {
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
            gate.wait_for_turn();
            match index.reindex(&root) {
                Ok(report) => on_report(&root, &report),
                // One bad pass must not end the watch; the next change retries.
                Err(e) => tracing::error!(root = %root.display(), error = %e, "re-indexing failed"),
            }
        }
    }
    Ok(())
}

/// The watched roots whose notes `event` changed. Only creation, a change
/// of content, a rename and removal count: opening, reading and closing a
/// note (a search, an editor showing it, the re-index pass itself) changes
/// nothing, and counting those made every pass trigger the next. A queue
/// overflow (the kernel dropped events) means anything may have changed.
fn roots_changed_by<'a>(event: &notify::Event, roots: &'a [PathBuf]) -> Vec<&'a PathBuf> {
    use notify::EventKind;
    use notify::event::ModifyKind;
    if event.need_rescan() {
        return roots.iter().collect();
    }
    let changes = matches!(
        event.kind,
        EventKind::Create(_)
            | EventKind::Remove(_)
            | EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Name(_) | ModifyKind::Any)
    );
    if !changes {
        return Vec::new();
    }
    let is_note = |p: &Path| p.extension().is_some_and(|e| e == "md" || e == "markdown");
    let mut changed = Vec::new();
    for path in event.paths.iter().filter(|p| is_note(p)) {
        if let Some(root) = roots.iter().find(|r| path.starts_with(r))
            && !changed.contains(&root)
        {
            changed.push(root);
        }
    }
    changed
}

/// Lowers the calling thread's CPU priority: re-indexing competes with the
/// voice loop for two cores, so it yields. On Linux, nice applies per thread.
pub fn lower_thread_priority() {
    // SAFETY: setpriority on our own thread id only changes scheduling.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        if libc::setpriority(libc::PRIO_PROCESS, tid, 10) != 0 {
            tracing::debug!("could not lower the watcher's priority");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::roots_changed_by;
    use notify::event::{
        AccessKind, AccessMode, CreateKind, DataChange, Flag, MetadataKind, ModifyKind, RemoveKind,
        RenameMode,
    };
    use notify::{Event, EventKind};
    use std::path::PathBuf;

    fn on_note(kind: EventKind) -> Event {
        Event::new(kind).add_path(PathBuf::from("/vault/kitchen.md"))
    }

    #[test]
    fn reading_a_note_changes_nothing_and_writing_one_does() {
        let roots = [PathBuf::from("/vault"), PathBuf::from("/other")];
        let quiet = [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Read),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)),
        ];
        for kind in quiet {
            assert!(roots_changed_by(&on_note(kind), &roots).is_empty(), "{kind:?}");
        }
        let changes = [
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            EventKind::Remove(RemoveKind::File),
        ];
        for kind in changes {
            assert_eq!(roots_changed_by(&on_note(kind), &roots), [&roots[0]], "{kind:?}");
        }
    }

    #[test]
    fn only_notes_count_and_an_overflow_rescans_every_root() {
        let roots = [PathBuf::from("/vault"), PathBuf::from("/other")];
        let picture =
            Event::new(EventKind::Create(CreateKind::File)).add_path(PathBuf::from("/vault/photo.png"));
        assert!(roots_changed_by(&picture, &roots).is_empty());
        let overflow = Event::new(EventKind::Other).set_flag(Flag::Rescan);
        assert_eq!(roots_changed_by(&overflow, &roots).len(), 2);
    }
}
