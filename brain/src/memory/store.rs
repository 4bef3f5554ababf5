//! The SQLite memory store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};

use super::{Clock, Layer, MemoryPolicy};

#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error("cannot open the memory database {path}: {reason}; check the folder is writable")]
    Open { path: PathBuf, reason: String },
    #[error("the memory database failed: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("no memory with id {0}; `hauski memory list` shows the ids")]
    NotFound(i64),
    #[error("nothing to remember: the text is empty")]
    Empty,
}

/// One remembered thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryEntry {
    pub id: i64,
    pub layer: Layer,
    pub text: String,
    pub created_ms: i64,
    /// `None`: never expires (a pinned entry, or a layer without lifetime).
    pub expires_ms: Option<i64>,
    pub pinned: bool,
}

pub struct MemoryStore {
    conn: Connection,
    policy: MemoryPolicy,
    clock: Arc<dyn Clock>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS memories (
    id          INTEGER PRIMARY KEY,
    layer       TEXT    NOT NULL CHECK (layer IN ('short', 'working', 'long')),
    text        TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER,
    pinned      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS memories_expiry ON memories (expires_ms) WHERE pinned = 0;
";

/// A memory's place in one turn's prompt: how close it is to the question.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredMemory {
    pub entry: MemoryEntry,
    /// Cosine similarity of the entry's embedding to the question's.
    pub score: f32,
}

impl MemoryStore {
    /// Opens (or creates) the database and purges what expired while closed.
    /// `:memory:` gives a store that lives only as long as the process.
    pub fn open(path: &Path, policy: MemoryPolicy, clock: Arc<dyn Clock>) -> Result<Self, MemoryError> {
        let _span = tracing::debug_span!("memory_open", path = %path.display()).entered();
        let fail = |reason: String| MemoryError::Open {
            path: path.to_path_buf(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        }
        let conn = Connection::open(path).map_err(|e| fail(e.to_string()))?;
        // WAL keeps readers off the writer's back; FULL sync makes each commit
        // durable before `remember` returns, so a kill loses nothing committed.
        // journal_mode answers with the mode now in force ("memory" for ":memory:").
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
            .map_err(|e| fail(e.to_string()))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| fail(e.to_string()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| fail(e.to_string()))?;
        conn.execute_batch(SCHEMA).map_err(|e| fail(e.to_string()))?;
        add_embedding_column(&conn).map_err(|e| fail(e.to_string()))?;
        let store = Self { conn, policy, clock };
        let purged = store.purge_expired()?;
        if purged > 0 {
            tracing::info!(purged, "expired memories purged at start");
        }
        Ok(store)
    }

    /// Stores `text` in `layer`; returns its id once committed.
    pub fn remember(&self, layer: Layer, text: &str) -> Result<i64, MemoryError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(MemoryError::Empty);
        }
        let now = self.clock.now_ms();
        let expires = self.policy.ttl_ms(layer).map(|ttl| now.saturating_add(ttl));
        self.conn.execute(
            "INSERT INTO memories (layer, text, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4)",
            params![layer.as_str(), text, now, expires],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Whether any entry has not expired: a turn with none to rank need not
    /// embed its question for them.
    pub fn has_entries(&self) -> Result<bool, MemoryError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM memories
             WHERE pinned = 1 OR expires_ms IS NULL OR expires_ms > ?1)",
            params![self.clock.now_ms()],
            |row| row.get(0),
        )?)
    }

    /// Every entry that has not expired, oldest first.
    pub fn list(&self) -> Result<Vec<MemoryEntry>, MemoryError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, layer, text, created_ms, expires_ms, pinned FROM memories
             WHERE pinned = 1 OR expires_ms IS NULL OR expires_ms > ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![self.clock.now_ms()], row_to_entry)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The newest `n` entries that have not expired, oldest of them first:
    /// what a prompt carries. Expired entries are purged first.
    pub fn recent(&self, n: usize) -> Result<Vec<MemoryEntry>, MemoryError> {
        self.purge_expired()?;
        let mut entries = self.list()?;
        entries.drain(..entries.len().saturating_sub(n));
        Ok(entries)
    }

    pub fn get(&self, id: i64) -> Result<MemoryEntry, MemoryError> {
        self.conn
            .query_row(
                "SELECT id, layer, text, created_ms, expires_ms, pinned FROM memories WHERE id = ?1",
                params![id],
                row_to_entry,
            )
            .optional()?
            .ok_or(MemoryError::NotFound(id))
    }

    /// Pins an entry: it never expires until forgotten.
    pub fn pin(&self, id: i64) -> Result<(), MemoryError> {
        let changed = self
            .conn
            .execute("UPDATE memories SET pinned = 1 WHERE id = ?1", params![id])?;
        if changed == 0 {
            return Err(MemoryError::NotFound(id));
        }
        Ok(())
    }

    pub fn forget(&self, id: i64) -> Result<(), MemoryError> {
        let changed = self
            .conn
            .execute("DELETE FROM memories WHERE id = ?1", params![id])?;
        if changed == 0 {
            return Err(MemoryError::NotFound(id));
        }
        Ok(())
    }

    /// Forgets every entry whose text mentions all words of `about`
    /// ("forget the plumber"). Returns what was forgotten.
    pub fn forget_about(&self, about: &str) -> Result<Vec<MemoryEntry>, MemoryError> {
        let words: Vec<String> = about
            .split_whitespace()
            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let matching: Vec<MemoryEntry> = self
            .list()?
            .into_iter()
            .filter(|e| {
                let text = e.text.to_lowercase();
                words.iter().all(|w| text.contains(w.as_str()))
            })
            .collect();
        let tx = self.conn.unchecked_transaction()?;
        for entry in &matching {
            tx.execute("DELETE FROM memories WHERE id = ?1", params![entry.id])?;
        }
        tx.commit()?;
        Ok(matching)
    }

    /// Deletes expired, unpinned entries; returns how many.
    pub fn purge_expired(&self) -> Result<usize, MemoryError> {
        Ok(self.conn.execute(
            "DELETE FROM memories WHERE pinned = 0 AND expires_ms IS NOT NULL AND expires_ms <= ?1",
            params![self.clock.now_ms()],
        )?)
    }

    /// Entries whose text has no embedding yet (remembered before embeddings
    /// were kept, or by a command that loads no embedder).
    pub fn without_embedding(&self) -> Result<Vec<MemoryEntry>, MemoryError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, layer, text, created_ms, expires_ms, pinned FROM memories
             WHERE embedding IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], row_to_entry)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Keeps the embedding of entry `id`'s text, for ranking it later.
    pub fn set_embedding(&self, id: i64, embedding: &[f32]) -> Result<(), MemoryError> {
        let bytes: Vec<u8> = embedding.iter().flat_map(|v| v.to_le_bytes()).collect();
        let changed = self.conn.execute(
            "UPDATE memories SET embedding = ?2 WHERE id = ?1",
            params![id, bytes],
        )?;
        if changed == 0 {
            return Err(MemoryError::NotFound(id));
        }
        Ok(())
    }

    /// The entries that belong in a prompt for a question whose (normalised)
    /// embedding is `question`: pinned ones always, then the most similar,
    /// newer first among equals, until `max_entries` or `budget_chars` of
    /// text. Entries without an embedding rank last.
    pub fn relevant(
        &self,
        question: &[f32],
        max_entries: usize,
        budget_chars: usize,
    ) -> Result<Vec<ScoredMemory>, MemoryError> {
        self.purge_expired()?;
        let mut stmt = self.conn.prepare(
            "SELECT id, layer, text, created_ms, expires_ms, pinned, embedding FROM memories ORDER BY id",
        )?;
        let rows = stmt.query_map([], |row| {
            let blob: Option<Vec<u8>> = row.get(6)?;
            Ok((row_to_entry(row)?, blob))
        })?;
        let mut scored = Vec::new();
        for row in rows {
            let (entry, blob) = row?;
            let score = blob.map_or(f32::MIN, |b| cosine(question, &b));
            scored.push(ScoredMemory { entry, score });
        }
        scored.sort_by(|a, b| {
            b.entry
                .pinned
                .cmp(&a.entry.pinned)
                .then(b.score.total_cmp(&a.score))
                .then(b.entry.created_ms.cmp(&a.entry.created_ms))
                .then(b.entry.id.cmp(&a.entry.id))
        });
        let mut chosen = Vec::new();
        let mut left = budget_chars;
        for memory in scored {
            let cost = memory.entry.text.len() + 3;
            if chosen.len() == max_entries || (cost > left && !memory.entry.pinned) {
                break;
            }
            left = left.saturating_sub(cost);
            chosen.push(memory);
        }
        Ok(chosen)
    }

    /// `PRAGMA integrity_check`: "ok" for a sound database.
    pub fn integrity_check(&self) -> Result<String, MemoryError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |row| row.get::<_, String>(0))?)
    }
}

/// Databases from before embeddings were kept get the column; their
/// entries are embedded the first time a question ranks them.
fn add_embedding_column(conn: &Connection) -> rusqlite::Result<()> {
    let has_column = conn
        .prepare("SELECT 1 FROM pragma_table_info('memories') WHERE name = 'embedding'")?
        .exists([])?;
    if !has_column {
        conn.execute_batch("ALTER TABLE memories ADD COLUMN embedding BLOB")?;
    }
    Ok(())
}

/// Dot product of a normalised embedding with one stored as little-endian
/// f32 bytes (also normalised): their cosine similarity. A stored vector of
/// another length (a different embedding model) scores lowest.
fn cosine(question: &[f32], stored: &[u8]) -> f32 {
    if stored.len() != question.len() * 4 {
        return f32::MIN;
    }
    stored
        .chunks_exact(4)
        .zip(question)
        .map(|(b, q)| f32::from_le_bytes([b[0], b[1], b[2], b[3]]) * q)
        .sum()
}

fn row_to_entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<MemoryEntry> {
    let layer: String = row.get(1)?;
    Ok(MemoryEntry {
        id: row.get(0)?,
        // The CHECK constraint keeps other values out of the table.
        layer: layer.parse().unwrap_or(Layer::Working),
        text: row.get(2)?,
        created_ms: row.get(3)?,
        expires_ms: row.get(4)?,
        pinned: row.get::<_, i64>(5)? != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::ManualClock;

    fn store(dir: &Path, clock: Arc<ManualClock>) -> MemoryStore {
        MemoryStore::open(&dir.join("memory.sqlite"), MemoryPolicy::default(), clock).expect("opens")
    }

    #[test]
    fn entries_expire_with_their_layer_and_pins_survive() {
        let dir = tempfile::tempdir().expect("tmp");
        let clock = Arc::new(ManualClock::new(1_000_000));
        let s = store(dir.path(), clock.clone());
        let short = s.remember(Layer::Short, "we talked about soup").expect("short");
        let working = s
            .remember(Layer::Working, "the plumber comes on Tuesday")
            .expect("working");
        let pinned = s
            .remember(Layer::Working, "the wifi password is on the fridge")
            .expect("pinned");
        let long = s.remember(Layer::Long, "Anna is allergic to nuts").expect("long");
        s.pin(pinned).expect("pin");

        clock.advance_ms(31 * 60_000);
        let ids: Vec<i64> = s.list().expect("list").iter().map(|e| e.id).collect();
        assert_eq!(
            ids,
            vec![working, pinned, long],
            "short memory is gone after 30 minutes"
        );

        clock.advance_ms(73 * 3_600_000);
        assert_eq!(s.purge_expired().expect("purge"), 2, "short and working expired");
        let ids: Vec<i64> = s.list().expect("list").iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![pinned, long]);
        assert!(matches!(s.get(short), Err(MemoryError::NotFound(_))));
    }

    #[test]
    fn forget_removes_by_id_and_by_topic() {
        let dir = tempfile::tempdir().expect("tmp");
        let s = store(dir.path(), Arc::new(ManualClock::new(0)));
        let a = s
            .remember(Layer::Working, "The plumber comes on Tuesday")
            .expect("a");
        let b = s.remember(Layer::Working, "Buy oat milk").expect("b");
        let gone = s.forget_about("the plumber").expect("forget");
        assert_eq!(gone.iter().map(|e| e.id).collect::<Vec<_>>(), vec![a]);
        s.forget(b).expect("forget b");
        assert!(s.list().expect("list").is_empty());
        assert!(matches!(s.forget(b), Err(MemoryError::NotFound(_))));
    }

    #[test]
    fn what_expired_while_closed_is_purged_on_open() {
        let dir = tempfile::tempdir().expect("tmp");
        let clock = Arc::new(ManualClock::new(0));
        store(dir.path(), clock.clone())
            .remember(Layer::Short, "temporary")
            .expect("remember");
        clock.advance_ms(3_600_000);
        let reopened = store(dir.path(), clock);
        let count: i64 = reopened
            .conn
            .query_row("SELECT COUNT(*) FROM memories", [], |r| r.get(0))
            .expect("count");
        assert_eq!(count, 0);
    }

    #[test]
    fn recent_keeps_the_newest_unexpired_entries() {
        let dir = tempfile::tempdir().expect("tmp");
        let clock = Arc::new(ManualClock::new(0));
        let s = store(dir.path(), clock.clone());
        assert!(!s.has_entries().expect("empty"));
        s.remember(Layer::Short, "soon gone").expect("short");
        assert!(s.has_entries().expect("one"));
        let a = s.remember(Layer::Long, "a").expect("a");
        let b = s.remember(Layer::Long, "b").expect("b");
        let c = s.remember(Layer::Long, "c").expect("c");
        clock.advance_ms(31 * 60_000);
        let ids = |n| {
            s.recent(n)
                .expect("recent")
                .iter()
                .map(|e| e.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(2), vec![b, c]);
        assert_eq!(ids(10), vec![a, b, c]);
        assert!(ids(0).is_empty());
    }

    #[test]
    fn relevant_ranks_by_similarity_keeps_pins_and_stays_in_budget() {
        let dir = tempfile::tempdir().expect("tmp");
        let clock = Arc::new(ManualClock::new(0));
        let s = store(dir.path(), clock.clone());
        let unit = |x: f32, y: f32| {
            let n = (x * x + y * y).sqrt();
            [x / n, y / n]
        };
        let far = s.remember(Layer::Long, "the bins go out on Monday").expect("far");
        s.set_embedding(far, &unit(0.0, 1.0)).expect("embed");
        let pinned = s
            .remember(Layer::Long, "the wifi password is on the fridge")
            .expect("pin");
        s.set_embedding(pinned, &unit(-1.0, 0.2)).expect("embed");
        s.pin(pinned).expect("pin");
        let near = s
            .remember(Layer::Long, "the plumber comes on Tuesday")
            .expect("near");
        s.set_embedding(near, &unit(1.0, 0.1)).expect("embed");
        clock.advance_ms(1);
        let same_but_newer = s
            .remember(Layer::Long, "the plumber's name is Jo")
            .expect("newer");
        s.set_embedding(same_but_newer, &unit(1.0, 0.1)).expect("embed");
        let unembedded = s.remember(Layer::Long, "buy oat milk").expect("plain");
        assert_eq!(s.without_embedding().expect("missing")[0].id, unembedded);
        assert!(s.has_entries().expect("has entries"));

        let ids = |max, budget| {
            s.relevant(&unit(1.0, 0.0), max, budget)
                .expect("relevant")
                .iter()
                .map(|m| m.entry.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids(10, 10_000),
            vec![pinned, same_but_newer, near, far, unembedded]
        );
        assert_eq!(ids(2, 10_000), vec![pinned, same_but_newer]);
        // The pin always comes; the budget then leaves room for one more.
        assert_eq!(ids(10, 70), vec![pinned, same_but_newer]);
    }

    #[test]
    fn a_database_from_before_embeddings_opens_and_keeps_its_entries() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("memory.sqlite");
        {
            let conn = Connection::open(&path).expect("old db");
            conn.execute_batch(
                "CREATE TABLE memories (id INTEGER PRIMARY KEY, layer TEXT NOT NULL, text TEXT NOT NULL,
                 created_ms INTEGER NOT NULL, expires_ms INTEGER, pinned INTEGER NOT NULL DEFAULT 0);
                 INSERT INTO memories (layer, text, created_ms) VALUES ('long', 'old entry', 0);",
            )
            .expect("old schema");
        }
        let s =
            MemoryStore::open(&path, MemoryPolicy::default(), Arc::new(ManualClock::new(0))).expect("opens");
        assert_eq!(s.list().expect("list")[0].text, "old entry");
        assert_eq!(s.without_embedding().expect("missing").len(), 1);
    }

    #[test]
    fn empty_text_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let s = store(dir.path(), Arc::new(ManualClock::new(0)));
        assert!(matches!(s.remember(Layer::Long, "  "), Err(MemoryError::Empty)));
    }
}
