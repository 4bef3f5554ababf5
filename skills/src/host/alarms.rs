//! The `alarms` capability: timers and reminders that the host keeps,
//! schedules and rings, lent to the skills that word them (the built-in
//! timers and reminders skills). A skill cannot ring anything itself: it
//! has no clock to wait on and no sound to make; it asks the desk.
//!
//! Imports of module `hauski`, each a JSON request in and a JSON reply
//! handed back (`(ptr << 32) | len`):
//! - `alarm_add({"kind", "label", "seconds" | "due_ms"})` → `{"alarm": view}`,
//!   `{"refused": "too_long", "max_s"}` or `{"refused": "past", "when"}`;
//! - `alarm_pending({"kind"})` → `{"alarms": [view, ..]}`, soonest first;
//! - `alarm_cancel({"ids": [..]})` → `{"cancelled": n}`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wasmtime::{Caller, Linker};

use super::CallState;
use super::imports::{hand_over, read};
use crate::store::{AlarmKind, StoreError};

/// What a skill asks to be kept: a timer of `seconds` from now, or a
/// reminder due at `due_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmRequest {
    pub kind: AlarmKind,
    /// A timer's name ("pasta", may be empty), a reminder's text.
    pub label: String,
    pub seconds: Option<u64>,
    pub due_ms: Option<i64>,
}

/// A kept alarm, as a skill sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlarmView {
    pub id: i64,
    pub kind: AlarmKind,
    pub label: String,
    pub seconds: Option<u64>,
    pub due_ms: i64,
    /// Seconds until it is due, rounded up.
    pub left_s: u64,
    /// When it is due, in the owner's words and time zone ("on Thursday at 3 PM").
    pub when: String,
}

/// The desk's answer to `alarm_add`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    Kept(AlarmView),
    /// A timer longer than the policy keeps.
    TooLong {
        max_s: u64,
    },
    /// A reminder for a moment gone ("today at 7 AM" at noon).
    Past {
        when: String,
    },
}

impl Added {
    fn to_json(&self) -> Value {
        match self {
            Self::Kept(view) => json!({ "alarm": view }),
            Self::TooLong { max_s } => json!({"refused": "too_long", "max_s": max_s}),
            Self::Past { when } => json!({"refused": "past", "when": when}),
        }
    }
}

/// The host's keeper of alarms (the core's store, scheduler and alarm thread).
pub trait AlarmDesk: Send + Sync {
    /// Keeps `request`, set by the owner in `room` (where it rings), or says why not.
    fn add(&self, request: &AlarmRequest, room: Option<&str>) -> Result<Added, StoreError>;
    /// The pending alarms of `kind`, soonest first.
    fn pending(&self, kind: AlarmKind) -> Result<Vec<AlarmView>, StoreError>;
    /// Cancels `ids`; returns how many were pending.
    fn cancel(&self, ids: &[i64]) -> Result<usize, StoreError>;
}

/// Longest alarm request a skill may send, in bytes.
const MAX_REQUEST_BYTES: usize = 16 * 1024;

fn request<T: serde::de::DeserializeOwned>(
    caller: &mut Caller<'_, CallState>,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<T> {
    let bytes = read(caller, ptr, len, MAX_REQUEST_BYTES)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| wasmtime::format_err!("the skill's alarm request is not one HausKI reads: {e}"))
}

fn reply(caller: &mut Caller<'_, CallState>, value: &Value) -> wasmtime::Result<i64> {
    hand_over(caller, value.to_string().as_bytes())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PendingRequest {
    kind: AlarmKind,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelRequest {
    ids: Vec<i64>,
}

/// Links `alarm_add`, `alarm_pending` and `alarm_cancel` over `desk`.
pub(super) fn link(linker: &mut Linker<CallState>, desk: &Arc<dyn AlarmDesk>) -> wasmtime::Result<()> {
    let add = desk.clone();
    linker.func_wrap(
        "hauski",
        "alarm_add",
        move |mut caller: Caller<'_, CallState>, ptr: i32, len: i32| -> wasmtime::Result<i64> {
            let asked: AlarmRequest = request(&mut caller, ptr, len)?;
            let valid = match asked.kind {
                AlarmKind::Timer => asked.seconds.is_some_and(|s| s > 0) && asked.due_ms.is_none(),
                AlarmKind::Reminder => asked.due_ms.is_some() && asked.seconds.is_none(),
            };
            if !valid {
                wasmtime::bail!("alarm_add: a timer takes seconds (above 0), a reminder takes due_ms");
            }
            let room = caller.data().room.clone();
            let added = add.add(&asked, room.as_deref())?;
            reply(&mut caller, &added.to_json())
        },
    )?;
    let pending = desk.clone();
    linker.func_wrap(
        "hauski",
        "alarm_pending",
        move |mut caller: Caller<'_, CallState>, ptr: i32, len: i32| -> wasmtime::Result<i64> {
            let asked: PendingRequest = request(&mut caller, ptr, len)?;
            let alarms = pending.pending(asked.kind)?;
            reply(&mut caller, &json!({ "alarms": alarms }))
        },
    )?;
    let cancel = desk.clone();
    linker.func_wrap(
        "hauski",
        "alarm_cancel",
        move |mut caller: Caller<'_, CallState>, ptr: i32, len: i32| -> wasmtime::Result<i64> {
            let asked: CancelRequest = request(&mut caller, ptr, len)?;
            let cancelled = cancel.cancel(&asked.ids)?;
            reply(&mut caller, &json!({ "cancelled": cancelled }))
        },
    )?;
    Ok(())
}
