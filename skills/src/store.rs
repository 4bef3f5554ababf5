//! Timers, reminders and each skill's kv store in SQLite, so they outlive
//! the daemon: a timer set before a restart still rings, a reminder due
//! while the daemon was down is spoken when it is back, a list stays.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, Row, params};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the skills database {path}: {reason}; check the folder is writable")]
    Open { path: PathBuf, reason: String },
    #[error("the skills database failed: {0}")]
    Sql(#[from] rusqlite::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlarmKind {
    Timer,
    Reminder,
}

impl AlarmKind {
    /// The kind as stored and as `hauski.alarm` names it: `timer`, `reminder`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timer => "timer",
            Self::Reminder => "reminder",
        }
    }

    fn parse(text: &str) -> Self {
        if text == "timer" {
            Self::Timer
        } else {
            Self::Reminder
        }
    }
}

/// A timer or a reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarm {
    pub id: i64,
    pub kind: AlarmKind,
    /// A timer's name ("pasta"; may be empty), a reminder's text ("call the dentist").
    pub label: String,
    /// A timer's length as set, for "your 10-minute timer".
    pub seconds: Option<u64>,
    /// When it is due, in Unix milliseconds.
    pub due_ms: i64,
    /// The profile (room) it was set in, where it rings.
    pub profile: Option<String>,
}

/// What to store for a new timer or reminder.
#[derive(Debug, Clone)]
pub struct NewAlarm<'a> {
    pub kind: AlarmKind,
    pub label: &'a str,
    pub seconds: Option<u64>,
    pub due_ms: i64,
    pub profile: Option<&'a str>,
}

pub struct SkillStore {
    conn: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS alarms (
    id       INTEGER PRIMARY KEY,
    kind     TEXT    NOT NULL CHECK (kind IN ('timer', 'reminder')),
    label    TEXT    NOT NULL,
    seconds  INTEGER,
    due_ms   INTEGER NOT NULL,
    profile  TEXT,
    state    TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'ringing', 'done', 'cancelled'))
);
CREATE INDEX IF NOT EXISTS alarms_due ON alarms (due_ms) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS skill_kv (
    skill  TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  BLOB NOT NULL,
    PRIMARY KEY (skill, key)
);
";

const ALARM_COLUMNS: &str = "id, kind, label, seconds, due_ms, profile";

fn alarm_from(row: &Row<'_>) -> rusqlite::Result<Alarm> {
    Ok(Alarm {
        id: row.get(0)?,
        kind: AlarmKind::parse(&row.get::<_, String>(1)?),
        label: row.get(2)?,
        seconds: row.get::<_, Option<i64>>(3)?.map(|s| s.max(0) as u64),
        due_ms: row.get(4)?,
        profile: row.get(5)?,
    })
}

impl SkillStore {
    /// Opens (or creates) the database. An alarm that was ringing when the
    /// daemon stopped is due again, so it rings once more.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let _span = tracing::debug_span!("skills_store_open", path = %path.display()).entered();
        let fail = |reason: String| StoreError::Open {
            path: path.to_path_buf(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        }
        let conn = Connection::open(path).map_err(|e| fail(e.to_string()))?;
        // As the memory store: WAL, and each commit durable before the reply.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
            .map_err(|e| fail(e.to_string()))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| fail(e.to_string()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| fail(e.to_string()))?;
        conn.execute_batch(SCHEMA).map_err(|e| fail(e.to_string()))?;
        conn.execute("UPDATE alarms SET state = 'pending' WHERE state = 'ringing'", [])
            .map_err(|e| fail(e.to_string()))?;
        Ok(Self { conn })
    }

    pub fn add_alarm(&self, new: &NewAlarm<'_>) -> Result<Alarm, StoreError> {
        self.conn.execute(
            "INSERT INTO alarms (kind, label, seconds, due_ms, profile) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                new.kind.as_str(),
                new.label,
                new.seconds.map(|s| s as i64),
                new.due_ms,
                new.profile
            ],
        )?;
        Ok(Alarm {
            id: self.conn.last_insert_rowid(),
            kind: new.kind,
            label: new.label.to_string(),
            seconds: new.seconds,
            due_ms: new.due_ms,
            profile: new.profile.map(str::to_string),
        })
    }

    /// Timers or reminders still to come, soonest first.
    pub fn pending(&self, kind: AlarmKind) -> Result<Vec<Alarm>, StoreError> {
        let sql = format!(
            "SELECT {ALARM_COLUMNS} FROM alarms WHERE state = 'pending' AND kind = ?1 ORDER BY due_ms, id"
        );
        let mut statement = self.conn.prepare(&sql)?;
        let rows = statement.query_map([kind.as_str()], alarm_from)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When the next pending alarm is due.
    pub fn next_due_ms(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.conn.query_row(
            "SELECT MIN(due_ms) FROM alarms WHERE state = 'pending'",
            [],
            |row| row.get::<_, Option<i64>>(0),
        )?)
    }

    /// The alarms due at `now_ms`, now ringing; soonest first.
    pub fn take_due(&self, now_ms: i64) -> Result<Vec<Alarm>, StoreError> {
        let sql = format!(
            "UPDATE alarms SET state = 'ringing' WHERE state = 'pending' AND due_ms <= ?1 RETURNING {ALARM_COLUMNS}"
        );
        let mut statement = self.conn.prepare(&sql)?;
        let mut due: Vec<Alarm> = statement
            .query_map([now_ms], alarm_from)?
            .collect::<Result<_, _>>()?;
        due.sort_by_key(|a| (a.due_ms, a.id));
        Ok(due)
    }

    /// The alarm stopped ringing (acknowledged, or rang its limit).
    pub fn finish(&self, id: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE alarms SET state = 'done' WHERE id = ?1 AND state = 'ringing'",
            [id],
        )?;
        Ok(())
    }

    /// Whether the alarm is still ringing.
    pub fn is_ringing(&self, id: i64) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM alarms WHERE id = ?1 AND state = 'ringing')",
            [id],
            |row| row.get(0),
        )?)
    }

    /// Stops every ringing alarm; returns how many rang.
    pub fn finish_ringing(&self) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .execute("UPDATE alarms SET state = 'done' WHERE state = 'ringing'", [])?)
    }

    /// Cancels these pending alarms; returns those it cancelled.
    pub fn cancel(&self, ids: &[i64]) -> Result<usize, StoreError> {
        let mut cancelled = 0;
        for id in ids {
            cancelled += self.conn.execute(
                "UPDATE alarms SET state = 'cancelled' WHERE id = ?1 AND state = 'pending'",
                [id],
            )?;
        }
        Ok(cancelled)
    }

    /// A skill's value under `key` (each skill sees only its own keys).
    pub fn kv_get(&self, skill: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT value FROM skill_kv WHERE skill = ?1 AND key = ?2")?;
        let mut rows = statement.query(params![skill, key])?;
        Ok(match rows.next()? {
            Some(row) => Some(row.get(0)?),
            None => None,
        })
    }

    pub fn kv_set(&self, skill: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO skill_kv (skill, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (skill, key) DO UPDATE SET value = excluded.value",
            params![skill, key, value],
        )?;
        Ok(())
    }

    pub fn kv_delete(&self, skill: &str, key: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM skill_kv WHERE skill = ?1 AND key = ?2",
            params![skill, key],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timer(label: &str, due_ms: i64) -> NewAlarm<'_> {
        NewAlarm {
            kind: AlarmKind::Timer,
            label,
            seconds: Some(60),
            due_ms,
            profile: Some("kueche"),
        }
    }

    #[test]
    fn alarms_ring_once_due_and_survive_a_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("skills.sqlite");
        let store = SkillStore::open(&path).expect("open");
        let pasta = store.add_alarm(&timer("pasta", 1_000)).expect("add");
        store.add_alarm(&timer("eggs", 2_000)).expect("add");
        assert_eq!(store.next_due_ms().expect("next"), Some(1_000));
        assert!(store.take_due(999).expect("due").is_empty());
        let due = store.take_due(1_500).expect("due");
        assert_eq!(due, vec![pasta.clone()]);
        assert!(store.is_ringing(pasta.id).expect("ringing"));
        drop(store);

        // Ringing when the daemon stopped: due again after the restart.
        let store = SkillStore::open(&path).expect("reopen");
        assert!(!store.is_ringing(pasta.id).expect("ringing"));
        let due = store.take_due(2_500).expect("due");
        assert_eq!(
            due.iter().map(|a| a.label.as_str()).collect::<Vec<_>>(),
            ["pasta", "eggs"]
        );
        assert_eq!(store.finish_ringing().expect("finish"), 2);
        assert_eq!(store.next_due_ms().expect("next"), None);
    }

    #[test]
    fn cancelled_alarms_never_ring() {
        let store = SkillStore::open(Path::new(":memory:")).expect("open");
        let pasta = store.add_alarm(&timer("pasta", 1_000)).expect("add");
        assert_eq!(
            store.pending(AlarmKind::Timer).expect("pending"),
            vec![pasta.clone()]
        );
        assert_eq!(store.cancel(&[pasta.id]).expect("cancel"), 1);
        assert!(store.take_due(5_000).expect("due").is_empty());
        assert!(store.pending(AlarmKind::Timer).expect("pending").is_empty());
    }

    #[test]
    fn each_skill_sees_only_its_own_keys() {
        let store = SkillStore::open(Path::new(":memory:")).expect("open");
        store.kv_set("lists", "list/shopping", b"[1]").expect("set");
        store.kv_set("lists", "list/shopping", b"[2]").expect("overwrite");
        assert_eq!(
            store.kv_get("lists", "list/shopping").expect("get"),
            Some(b"[2]".to_vec())
        );
        assert_eq!(store.kv_get("other", "list/shopping").expect("get"), None);
        store.kv_delete("lists", "list/shopping").expect("delete");
        assert_eq!(store.kv_get("lists", "list/shopping").expect("get"), None);
    }
}
