//! The owner's Markdown notes (e.g. an Obsidian vault) as searchable chunks.
//!
//! A note is split at its headings; each chunk keeps its heading path
//! ("Garden > Tomatoes") and is embedded with it, because a heading often
//! carries the words a question uses. Long sections are split at paragraphs.
//! The index remembers each file's content hash: unchanged files are skipped,
//! changed ones re-chunked, deleted ones removed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::BrainError;
use crate::Embedder;
use crate::retrieval::{Document, RetrievalError, VectorStore};

/// Longest chunk in characters (~250 tokens, under MiniLM's 256).
const MAX_CHUNK_CHARS: usize = 900;
/// Larger notes are skipped with a log line: they are exports, not notes.
pub const MAX_NOTE_BYTES: u64 = 4 * 1024 * 1024;
/// Texts embedded per batch.
const EMBED_BATCH: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub heading_path: Vec<String>,
    pub text: String,
}

impl Chunk {
    pub fn heading(&self) -> String {
        self.heading_path.join(" > ")
    }

    /// What is embedded and indexed: the headings give the text its topic.
    pub fn indexed_text(&self) -> String {
        if self.heading_path.is_empty() {
            self.text.clone()
        } else {
            format!("{}\n{}", self.heading(), self.text)
        }
    }
}

/// Splits Markdown into chunks by heading; YAML front matter is dropped except
/// its `title`, which heads the note's chunks.
pub fn chunk_markdown(text: &str) -> Vec<Chunk> {
    let (title, body) = split_front_matter(text);
    let mut chunks = Vec::new();
    let mut path: Vec<(usize, String)> = title.into_iter().map(|t| (0, t)).collect();
    let mut section = String::new();
    let mut in_code = false;
    let flush = |section: &mut String, path: &[(usize, String)], chunks: &mut Vec<Chunk>| {
        let headings: Vec<String> = path.iter().map(|(_, h)| h.clone()).collect();
        for piece in split_long(section.trim()) {
            chunks.push(Chunk {
                heading_path: headings.clone(),
                text: piece,
            });
        }
        section.clear();
    };
    for line in body.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        let level = line.chars().take_while(|&c| c == '#').count();
        let is_heading = !in_code && (1..=6).contains(&level) && line[level..].starts_with(' ');
        if is_heading {
            flush(&mut section, &path, &mut chunks);
            path.retain(|(l, _)| *l < level);
            path.push((level, line[level..].trim().to_string()));
        } else {
            section.push_str(line);
            section.push('\n');
        }
    }
    flush(&mut section, &path, &mut chunks);
    chunks
}

fn split_front_matter(text: &str) -> (Option<String>, &str) {
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return (None, text);
    };
    let Some(end) = rest.find("\n---") else {
        return (None, text);
    };
    let front = &rest[..end];
    let body = rest[end + 4..].trim_start_matches(['\r', '\n']);
    let title = front.lines().find_map(|l| {
        l.strip_prefix("title:")
            .map(|t| t.trim().trim_matches(['"', '\'']).to_string())
            .filter(|t| !t.is_empty())
    });
    (title, body)
}

/// Splits at blank lines so no piece exceeds [`MAX_CHUNK_CHARS`] (a single
/// longer paragraph is cut at a sentence end or, failing that, a space).
fn split_long(text: &str) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    let mut pieces = Vec::new();
    let mut current = String::new();
    for paragraph in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        if !current.is_empty() && current.len() + paragraph.len() + 2 > MAX_CHUNK_CHARS {
            pieces.push(std::mem::take(&mut current));
        }
        let mut rest = paragraph;
        while rest.len() > MAX_CHUNK_CHARS {
            let mut cut = MAX_CHUNK_CHARS;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            let head = &rest[..cut];
            let at = head
                .rfind(". ")
                .map(|i| i + 1)
                .or_else(|| head.rfind(' '))
                .unwrap_or(cut);
            pieces.push(rest[..at].trim().to_string());
            rest = rest[at..].trim_start();
        }
        if !current.is_empty() {
            current.push_str("\n\n");
        }
        current.push_str(rest);
    }
    if !current.trim().is_empty() {
        pieces.push(current);
    }
    pieces
}

/// What `index add` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IndexReport {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub removed: usize,
    /// Files not indexed, with why (binary, not UTF-8, too large).
    pub skipped: Vec<(String, String)>,
    pub chunks: usize,
}

/// Which folders are indexed and the content hash of every indexed file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub roots: Vec<PathBuf>,
    /// Absolute path → sha256 of its bytes.
    pub files: BTreeMap<String, String>,
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Self, BrainError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                serde_json::from_str(&text).map_err(|e| BrainError::Index(format!("{}: {e}", path.display())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(BrainError::Index(format!("{}: {e}", path.display()))),
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), BrainError> {
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(|e| BrainError::Index(e.to_string()))?;
        std::fs::write(&tmp, text).map_err(|e| BrainError::Index(format!("{}: {e}", tmp.display())))?;
        std::fs::rename(&tmp, path).map_err(|e| BrainError::Index(format!("{}: {e}", path.display())))
    }
}

/// Brings the store up to date with the Markdown files under `root`.
/// `progress(done, total, file)` is called once per file.
pub fn index_folder(
    root: &Path,
    store: &mut dyn VectorStore,
    embedder: &Embedder,
    manifest: &mut Manifest,
    mut progress: impl FnMut(usize, usize, &str),
) -> Result<IndexReport, BrainError> {
    let _span = tracing::info_span!("index_folder", root = %root.display()).entered();
    let root = root
        .canonicalize()
        .map_err(|e| BrainError::Index(format!("{}: {e}", root.display())))?;
    let files = markdown_files(&root);
    let mut report = IndexReport::default();
    let mut seen = std::collections::HashSet::new();
    for (n, file) in files.iter().enumerate() {
        let key = file.display().to_string();
        progress(n + 1, files.len(), &key);
        seen.insert(key.clone());
        match read_note(file) {
            Err(why) => {
                tracing::warn!(file = %key, %why, "note skipped");
                report.skipped.push((key.clone(), why));
                // A note that became unreadable keeps nothing stale in the index.
                if manifest.files.remove(&key).is_some() {
                    store.delete(&store.ids_where("path", &key)).map_err(retrieval)?;
                }
            }
            Ok((text, hash)) => {
                let previous = manifest.files.get(&key);
                if previous == Some(&hash) {
                    report.unchanged += 1;
                    continue;
                }
                if previous.is_some() {
                    report.updated += 1;
                    store.delete(&store.ids_where("path", &key)).map_err(retrieval)?;
                } else {
                    report.added += 1;
                }
                report.chunks += index_note(&key, &text, store, embedder)?;
                manifest.files.insert(key, hash);
            }
        }
    }
    // Notes deleted from disk leave the index too.
    let prefix = format!("{}/", root.display());
    let gone: Vec<String> = manifest
        .files
        .keys()
        .filter(|k| k.starts_with(&prefix) && !seen.contains(*k))
        .cloned()
        .collect();
    for key in gone {
        store.delete(&store.ids_where("path", &key)).map_err(retrieval)?;
        manifest.files.remove(&key);
        report.removed += 1;
    }
    if !manifest.roots.contains(&root) {
        manifest.roots.push(root);
    }
    store.persist().map_err(retrieval)?;
    Ok(report)
}

fn index_note(
    key: &str,
    text: &str,
    store: &mut dyn VectorStore,
    embedder: &Embedder,
) -> Result<usize, BrainError> {
    let chunks = chunk_markdown(text);
    let mut documents = Vec::with_capacity(chunks.len());
    for (batch_index, batch) in chunks.chunks(EMBED_BATCH).enumerate() {
        let texts: Vec<String> = batch.iter().map(Chunk::indexed_text).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let vectors = embedder.embed(&refs)?;
        for (i, (chunk, embedding)) in batch.iter().zip(vectors).enumerate() {
            documents.push(Document {
                id: format!("{key}#{}", batch_index * EMBED_BATCH + i),
                text: chunk.text.clone(),
                embedding,
                fields: BTreeMap::from([
                    ("path".to_string(), key.to_string()),
                    ("heading".to_string(), chunk.heading()),
                ]),
            });
        }
    }
    let n = documents.len();
    store.upsert(documents).map_err(retrieval)?;
    Ok(n)
}

/// The note's text and content hash, or why it cannot be indexed.
fn read_note(path: &Path) -> Result<(String, String), String> {
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > MAX_NOTE_BYTES {
        return Err(format!(
            "{size} bytes, over the {MAX_NOTE_BYTES}-byte limit for a note"
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    if bytes.contains(&0) {
        return Err("binary file (contains NUL bytes)".to_string());
    }
    let hash = hex(&Sha256::digest(&bytes));
    let text = String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))?;
    Ok((text, hash))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Markdown files under `root`, sorted; hidden folders (.obsidian, .git) skipped.
fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            match entry.file_type() {
                Ok(t) if t.is_dir() && !hidden => stack.push(path),
                Ok(t) if t.is_file() && path.extension().is_some_and(|e| e == "md" || e == "markdown") => {
                    out.push(path)
                }
                _ => {}
            }
        }
    }
    out.sort();
    out
}

fn retrieval(e: RetrievalError) -> BrainError {
    BrainError::Index(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_make_chunks_with_their_path() {
        let md = "---\ntitle: House\ntags: [home]\n---\nIntro line.\n# Garden\nTomatoes need water.\n## Shed\nThe key is under the pot.\n# Kitchen\nThe oven is gas.\n";
        let chunks = chunk_markdown(md);
        let got: Vec<(String, String)> = chunks.iter().map(|c| (c.heading(), c.text.clone())).collect();
        assert_eq!(
            got,
            vec![
                ("House".into(), "Intro line.".into()),
                ("House > Garden".into(), "Tomatoes need water.".into()),
                ("House > Garden > Shed".into(), "The key is under the pot.".into()),
                ("House > Kitchen".into(), "The oven is gas.".into()),
            ]
        );
    }

    #[test]
    fn hashes_in_code_blocks_are_not_headings() {
        let chunks = chunk_markdown("# A\n```\n# not a heading\n```\n");
        assert_eq!(chunks.len(), 1);
        assert!(chunks[0].text.contains("# not a heading"));
    }

    #[test]
    fn long_sections_are_split_under_the_limit() {
        let para = "word ".repeat(150);
        let md = format!("# Long\n{para}\n\n{para}\n\n{para}\n");
        let chunks = chunk_markdown(&md);
        assert!(chunks.len() >= 3, "{}", chunks.len());
        assert!(chunks.iter().all(|c| c.text.len() <= MAX_CHUNK_CHARS));
    }
}
