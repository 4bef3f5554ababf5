//! Memory with lifetimes: what the owner asked HausKI to remember.
//!
//! Three layers, as in `policies/memory.yaml`: `short` (this conversation),
//! `working` (hours to days) and `long` (until forgotten), each with a time to
//! live; pinned entries never expire. Entries live in SQLite in WAL mode with
//! full sync, so a process killed mid-write loses nothing it had committed.
//! Time comes from a [`Clock`], so expiry is tested without sleeping.

mod clock;
mod intent;
mod policy;
mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use intent::{MemoryIntent, parse_intent};
pub use policy::{Layer, MemoryPolicy, parse_ttl};
pub use store::{MemoryEntry, MemoryError, MemoryStore, ScoredMemory};

/// The memory section of a system prompt: what the owner asked HausKI to
/// remember, newest last, so the model can answer "what did I say about…".
pub fn memory_prompt(entries: &[MemoryEntry]) -> String {
    if entries.is_empty() {
        return String::new();
    }
    let mut out = String::from("Things the owner asked HausKI to remember:\n");
    for e in entries {
        out.push_str("- ");
        out.push_str(e.text.trim());
        out.push('\n');
    }
    out
}
