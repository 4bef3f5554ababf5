//! A process killed (SIGKILL) in the middle of a burst of memory writes
//! reopens with every committed entry intact and a sound database.
//!
//! The writer is this test binary itself, started again with an environment
//! variable that makes `burst_writer` write and report each committed id.

#[path = "../../tests/support/child.rs"]
mod child;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use hauski_brain::memory::{Layer, MemoryPolicy, MemoryStore, SystemClock};

const WRITER_ENV: &str = "HAUSKI_TEST_MEMORY_WRITER";

/// Not a test on its own: the child process's body.
#[test]
fn burst_writer() {
    let Ok(path) = std::env::var(WRITER_ENV) else {
        return;
    };
    let store =
        MemoryStore::open(path.as_ref(), MemoryPolicy::default(), Arc::new(SystemClock)).expect("opens");
    for i in 0..1_000_000 {
        let id = store
            .remember(
                Layer::Long,
                &format!("entry number {i} with some text to make the page fill up"),
            )
            .expect("remember");
        // Printed only after the commit returned: the parent's proof of durability.
        println!("committed {id}");
    }
}

#[test]
fn killed_writer_loses_nothing_committed() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("memory.sqlite");
    let mut child = child::Running::new(
        Command::new(std::env::current_exe().expect("test binary"))
            .args(["--exact", "burst_writer", "--nocapture", "--test-threads", "1"])
            .env(WRITER_ENV, &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("child starts"),
    );
    let stdout = child.stdout.take().expect("stdout");
    let mut committed = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(id) = line.strip_prefix("committed ") {
            committed.push(id.parse::<i64>().expect("id"));
            if committed.len() == 300 {
                // Mid-burst: the writer is inside its next transaction.
                child.kill().expect("SIGKILL");
                break;
            }
        }
    }
    child.wait().expect("reaped");
    assert_eq!(
        committed.len(),
        300,
        "the writer reported commits before the kill"
    );

    let store = MemoryStore::open(&db, MemoryPolicy::default(), Arc::new(SystemClock)).expect("reopens");
    assert_eq!(store.integrity_check().expect("check"), "ok");
    let present: std::collections::HashSet<i64> = store.list().expect("list").iter().map(|e| e.id).collect();
    let lost: Vec<&i64> = committed.iter().filter(|id| !present.contains(id)).collect();
    assert!(lost.is_empty(), "committed entries lost: {lost:?}");
}
