//! The hybrid store's files: `docs.jsonl` (a header naming the graph dump,
//! then one document a line with its embedding) and hnsw_rs's graph dumps,
//! read back, and the dumps no longer named cleaned up.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hnsw_rs::prelude::{DistCosine, Hnsw, HnswIo};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub(super) struct StoredDoc {
    pub(super) id: String,
    pub(super) text: String,
    pub(super) fields: BTreeMap<String, String>,
    /// Base64 of the embedding's little-endian f32s.
    pub(super) embedding: String,
    /// This document's point in the dumped graph.
    #[serde(default)]
    pub(super) point: Option<usize>,
}

impl StoredDoc {
    pub(super) fn new(
        id: &str,
        text: &str,
        fields: &BTreeMap<String, String>,
        embedding: &[f32],
        point: usize,
    ) -> Self {
        let bytes: Vec<u8> = embedding.iter().flat_map(|x| x.to_le_bytes()).collect();
        Self {
            id: id.to_string(),
            text: text.to_string(),
            fields: fields.clone(),
            embedding: BASE64.encode(bytes),
            point: Some(point),
        }
    }
}

/// Writes `docs.jsonl` under a temporary name, syncs it, and renames it into
/// place, so a reader sees the old file or the new one, never half of one.
pub(super) fn write_docs(
    dir: &Path,
    header: &Header,
    docs: impl Iterator<Item = StoredDoc>,
) -> Result<(), String> {
    let tmp = dir.join("docs.jsonl.tmp");
    {
        let mut out = BufWriter::new(std::fs::File::create(&tmp).map_err(|e| e.to_string())?);
        serde_json::to_writer(&mut out, header).map_err(|e| e.to_string())?;
        out.write_all(b"\n").map_err(|e| e.to_string())?;
        for stored in docs {
            serde_json::to_writer(&mut out, &stored).map_err(|e| e.to_string())?;
            out.write_all(b"\n").map_err(|e| e.to_string())?;
        }
        out.into_inner()
            .map_err(|e| e.to_string())?
            .sync_all()
            .map_err(|e| e.to_string())?;
    }
    std::fs::rename(&tmp, dir.join("docs.jsonl")).map_err(|e| e.to_string())
}

/// The first line of `docs.jsonl`: which graph dump belongs to these documents.
/// The dump is written under a new name before `docs.jsonl` is replaced, so
/// the pair is consistent whatever moment a crash picks.
#[derive(Serialize, Deserialize, Default)]
pub(super) struct Header {
    pub(super) graph: Option<String>,
    pub(super) points: usize,
}

/// Reads `docs.jsonl`; absent is an empty store.
pub(super) type LoadedDocs = (Header, Vec<(StoredDoc, Vec<f32>)>);

pub(super) fn load_docs(dir: &Path, dimensions: usize) -> Result<LoadedDocs, String> {
    let path = dir.join("docs.jsonl");
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Header::default(), Vec::new())),
        Err(e) => return Err(format!("docs.jsonl: {e}")),
    };
    let mut lines = BufReader::new(file).lines().enumerate();
    let header: Header = match lines.next() {
        Some((_, line)) => {
            let line = line.map_err(|e| format!("docs.jsonl: {e}"))?;
            serde_json::from_str(&line).map_err(|e| format!("docs.jsonl header: {e}"))?
        }
        None => Header::default(),
    };
    let mut docs = Vec::new();
    for (n, line) in lines {
        let line = line.map_err(|e| format!("docs.jsonl: {e}"))?;
        let mut doc: StoredDoc =
            serde_json::from_str(&line).map_err(|e| format!("docs.jsonl line {}: {e}", n + 1))?;
        let bytes = BASE64
            .decode(&doc.embedding)
            .map_err(|e| format!("docs.jsonl line {}: embedding: {e}", n + 1))?;
        // The base64 text is freed now, not after the last line: kept, it was
        // 2 kB a document, and the heap it took stayed with the process.
        doc.embedding = String::new();
        if bytes.len() != dimensions * 4 {
            return Err(format!(
                "docs.jsonl line {}: a {}-dimensional embedding, expected {dimensions}",
                n + 1,
                bytes.len() / 4
            ));
        }
        let v = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        docs.push((doc, v));
    }
    Ok((header, docs))
}

/// Loads a dumped graph, or `None` (the caller rebuilds) if it is missing,
/// unreadable or of another size than the documents say.
pub(super) fn load_graph(dir: &Path, name: &str, points: usize) -> Option<Hnsw<'static, f32, DistCosine>> {
    let _span = tracing::debug_span!("hnsw_load", name).entered();
    // hnsw_rs ties a loaded graph's lifetime to its loader; the loader is a
    // few paths and options, kept for the life of the process.
    // hnsw_rs unwraps while parsing a dump: a damaged file panics inside it.
    // That is contained here and answered with a rebuild.
    let loaded = std::panic::catch_unwind(move || {
        let io: &'static mut HnswIo = Box::leak(Box::new(HnswIo::new(dir, name)));
        io.load_hnsw::<f32, DistCosine>().map_err(|e| e.to_string())
    })
    .unwrap_or_else(|_| Err("the dump is damaged".to_string()));
    match loaded {
        Ok(graph) if graph.get_nb_point() == points => Some(graph),
        Ok(graph) => {
            tracing::warn!(
                name,
                found = graph.get_nb_point(),
                expected = points,
                "graph dump does not match; rebuilding"
            );
            None
        }
        Err(e) => {
            tracing::warn!(name, error = %e, "graph dump unreadable; rebuilding");
            None
        }
    }
}

pub(super) fn remove_old_dumps(dir: &Path, keep: Option<&str>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dump = name.starts_with("graph-") && name.contains(".hnsw.");
        if is_dump && keep.is_none_or(|k| !name.starts_with(&format!("{k}.hnsw."))) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

pub(super) fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}
