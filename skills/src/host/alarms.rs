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

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wasmtime::{Caller, Linker};

use super::CallState;
use super::imports::{hand_over, read};
use crate::store::{AlarmKind, StoreError};

/// What a skill asks to be kept, checked: a timer or a reminder, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmRequest {
    pub kind: AlarmKind,
    /// A timer's name ("pasta", may be empty), a reminder's text.
    pub label: String,
    pub due: Due,
}

/// When a requested alarm is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// A timer: this many seconds (at least 1) from now.
    After { seconds: u64 },
    /// A reminder: at this moment, in Unix milliseconds.
    At { ms: i64 },
}

/// `alarm_add`'s JSON: `{"kind", "label", "seconds"}` for a timer,
/// `{"kind", "label", "due_ms"}` for a reminder.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddRequest {
    kind: AlarmKind,
    label: String,
    seconds: Option<u64>,
    due_ms: Option<i64>,
}

impl AddRequest {
    fn checked(self) -> wasmtime::Result<AlarmRequest> {
        let due = match (self.kind, self.seconds, self.due_ms) {
            (AlarmKind::Timer, Some(seconds), None) if seconds > 0 => Due::After { seconds },
            (AlarmKind::Reminder, None, Some(ms)) => Due::At { ms },
            _ => wasmtime::bail!("alarm_add: a timer takes seconds (above 0), a reminder takes due_ms"),
        };
        Ok(AlarmRequest {
            kind: self.kind,
            label: self.label,
            due,
        })
    }
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

/// Links `name` as a host function that reads the skill's JSON request,
/// answers it with `answer` (given the request's room) and hands the JSON
/// reply back.
fn link_json<Request: DeserializeOwned + 'static>(
    linker: &mut Linker<CallState>,
    name: &str,
    answer: impl Fn(Request, Option<&str>) -> wasmtime::Result<Value> + Send + Sync + 'static,
) -> wasmtime::Result<()> {
    linker.func_wrap(
        "hauski",
        name,
        move |mut caller: Caller<'_, CallState>, ptr: i32, len: i32| -> wasmtime::Result<i64> {
            let bytes = read(&mut caller, ptr, len, MAX_REQUEST_BYTES)?;
            let request: Request = serde_json::from_slice(&bytes).map_err(|e| {
                wasmtime::format_err!("the skill's alarm request is not one HausKI reads: {e}")
            })?;
            let room = caller.data().room.clone();
            let reply = answer(request, room.as_deref())?;
            hand_over(&mut caller, reply.to_string().as_bytes())
        },
    )?;
    Ok(())
}

/// Links `alarm_add`, `alarm_pending` and `alarm_cancel` over `desk`.
pub(super) fn link(linker: &mut Linker<CallState>, desk: &Arc<dyn AlarmDesk>) -> wasmtime::Result<()> {
    let add = desk.clone();
    link_json(linker, "alarm_add", move |asked: AddRequest, room| {
        Ok(add.add(&asked.checked()?, room)?.to_json())
    })?;
    let pending = desk.clone();
    link_json(linker, "alarm_pending", move |asked: PendingRequest, _| {
        Ok(json!({ "alarms": pending.pending(asked.kind)? }))
    })?;
    let cancel = desk.clone();
    link_json(linker, "alarm_cancel", move |asked: CancelRequest, _| {
        Ok(json!({ "cancelled": cancel.cancel(&asked.ids)? }))
    })
}
