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

    /// `PRAGMA integrity_check`: "ok" for a sound database.
    pub fn integrity_check(&self) -> Result<String, MemoryError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |row| row.get::<_, String>(0))?)
    }
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
        s.remember(Layer::Short, "soon gone").expect("short");
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
    fn empty_text_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let s = store(dir.path(), Arc::new(ManualClock::new(0)));
        assert!(matches!(s.remember(Layer::Long, "  "), Err(MemoryError::Empty)));
    }
}
