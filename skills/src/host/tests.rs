//! The sandbox: the built-in lists skill end to end, and hand-written
//! modules that ask for what they were not granted, loop forever, trap, or
//! want more memory than their cap.

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::alarms::{Added, AlarmRequest, AlarmView, Due};
use super::*;
use crate::store::AlarmKind;

mod adapters;

const NOW_MS: i64 = 1_764_590_400_000;

/// A keeper of alarms in memory, at a clock that stands still: what the
/// timers and reminders skills ask of the `alarms` capability, and the
/// room each alarm was set in.
#[derive(Default)]
struct DeskInMemory {
    kept: Mutex<Vec<(AlarmView, Option<String>)>>,
}

impl AlarmDesk for DeskInMemory {
    fn add(&self, request: &AlarmRequest, room: Option<&str>) -> Result<Added, StoreError> {
        let (due_ms, seconds) = match request.due {
            Due::After { seconds } if seconds > 3600 => return Ok(Added::TooLong { max_s: 3600 }),
            Due::After { seconds } => (NOW_MS + seconds as i64 * 1000, Some(seconds)),
            Due::At { ms } => (ms, None),
        };
        let when = format!("at {due_ms}");
        if due_ms <= NOW_MS {
            return Ok(Added::Past { when });
        }
        let mut kept = self.kept.lock().expect("desk");
        let view = AlarmView {
            id: kept.len() as i64 + 1,
            kind: request.kind,
            label: request.label.clone(),
            seconds,
            due_ms,
            left_s: ((due_ms - NOW_MS) / 1000) as u64,
            when,
        };
        kept.push((view.clone(), room.map(str::to_string)));
        Ok(Added::Kept(view))
    }

    fn pending(&self, kind: AlarmKind) -> Result<Vec<AlarmView>, StoreError> {
        let mut pending: Vec<AlarmView> = self
            .kept
            .lock()
            .expect("desk")
            .iter()
            .map(|(view, _)| view.clone())
            .filter(|view| view.kind == kind)
            .collect();
        pending.sort_by_key(|view| view.due_ms);
        Ok(pending)
    }

    fn cancel(&self, ids: &[i64]) -> Result<usize, StoreError> {
        let mut kept = self.kept.lock().expect("desk");
        let before = kept.len();
        kept.retain(|(view, _)| !ids.contains(&view.id));
        Ok(before - kept.len())
    }
}

fn host_with(dir: &Path, alarms: Option<Arc<dyn AlarmDesk>>) -> SkillHost {
    let services = HostServices {
        clock: Arc::new(|| NOW_MS),
        notify: Arc::new(|_, _| {}),
        alarms,
        egress: Some(Arc::new(adapters::CannedEgress::default())),
        secrets: Some(Arc::new(adapters::SecretsInMemory::default())),
    };
    SkillHost::new(&dir.join("skills.sqlite"), &dir.join("audit.log"), services).expect("host")
}

fn host(dir: &Path) -> SkillHost {
    host_with(dir, Some(Arc::new(DeskInMemory::default())))
}

fn with_builtins(dir: &Path) -> SkillHost {
    let mut host = host(dir);
    for (manifest, wasm) in crate::builtin::skills() {
        host.load(manifest, wasm).expect("a built-in skill loads");
    }
    host
}

fn manifest(name: &str, capabilities: &str) -> Manifest {
    Manifest::parse(&format!(
        "name: {name}\ndescription: test\nmodule: {name}.wasm\ncapabilities: [{capabilities}]\n\
         actions:\n  - {{name: {name}.run, description: test, parameters: {{type: object}}}}\n\
         limits: {{fuel: 1000000, memory_mib: 1}}\n"
    ))
    .expect("manifest")
}

/// A skill whose call answers `{"reply":"found"}` when its kv holds
/// `list/shopping`, else `{"reply":"missing"}`.
const KV_PROBE: &str = r#"(module
  (import "hauski" "kv_get" (func $kv_get (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "list/shopping")
  (data (i32.const 64) "{\"reply\":\"found\"}")
  (data (i32.const 128) "{\"reply\":\"missing\"}")
  (global $next (mut i32) (i32.const 1024))
  (func (export "hauski_alloc") (param $len i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $len)))
    (local.get $at))
  (func (export "hauski_call") (param i32 i32) (result i64)
    (if (result i64) (i64.lt_s (call $kv_get (i32.const 0) (i32.const 13)) (i64.const 0))
      (then (i64.or (i64.shl (i64.const 128) (i64.const 32)) (i64.const 19)))
      (else (i64.or (i64.shl (i64.const 64) (i64.const 32)) (i64.const 17))))))"#;

/// `body` as a skill's `hauski_call`, with the exports every skill has.
fn skill_calling(body: &str, memory_pages: u32) -> String {
    format!(
        r#"(module
  (memory (export "memory") {memory_pages})
  (func (export "hauski_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "hauski_call") (param i32 i32) (result i64) {body}))"#
    )
}

#[test]
fn the_lists_skill_keeps_lists_across_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = with_builtins(dir.path());
    let added = host
        .call(
            "list.add",
            &json!({"list": "shopping", "items": ["oat milk", "eggs"]}),
        )
        .expect("list.add");
    assert_eq!(
        added.reply,
        "Okay, I added oat milk and eggs to the shopping list."
    );
    let again = host
        .call("list.add", &json!({"list": "shopping", "items": ["eggs"]}))
        .expect("list.add");
    assert_eq!(again.reply, "Eggs is on the shopping list already.");
    drop(host);

    let host = with_builtins(dir.path());
    let read = host
        .call("list.read", &json!({"list": "shopping"}))
        .expect("list.read");
    assert_eq!(read.reply, "On the shopping list: oat milk and eggs.");
    assert_eq!(read.data["items"], json!(["oat milk", "eggs"]));
    let removed = host
        .call("list.remove", &json!({"list": "shopping", "item": "eggs"}))
        .expect("list.remove");
    assert_eq!(removed.data["items"], json!(["oat milk"]));
    assert!(matches!(
        host.call("list.fly", &json!({})),
        Err(SkillError::NoSuchAction(_))
    ));
}

#[test]
fn a_skill_sees_only_its_own_kv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut host = with_builtins(dir.path());
    host.call("list.add", &json!({"list": "shopping", "items": ["eggs"]}))
        .expect("list.add");
    host.load(manifest("probe", "kv"), KV_PROBE.as_bytes())
        .expect("probe loads");
    assert_eq!(
        host.call("probe.run", &json!({})).expect("probe").reply,
        "missing"
    );
}

#[test]
fn a_capability_not_granted_is_refused_and_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut host = host(dir.path());
    let refused = host.load(manifest("probe", "log"), KV_PROBE.as_bytes());
    assert!(
        matches!(&refused, Err(SkillError::NotGranted { capability: "kv", .. })),
        "{refused:?}"
    );
    let wasi = r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))))"#;
    let unknown = host.load(manifest("writer", "kv, log"), wasi.as_bytes());
    assert!(
        matches!(&unknown, Err(SkillError::UnknownImport { .. })),
        "{unknown:?}"
    );
    let audit = std::fs::read_to_string(dir.path().join("audit.log")).expect("audit log");
    assert_eq!(audit.matches("\"decision\":\"refused\"").count(), 2, "{audit}");
    assert!(audit.contains("kv capability"), "{audit}");
    let public = std::fs::read_to_string(dir.path().join("audit.pub")).expect("the audit key's public half");
    let public = hex::decode(public.trim()).expect("hex");
    audit::verify(&dir.path().join("audit.log"), &audit, &public).expect("the chain and signatures hold");
}

#[test]
fn a_runaway_skill_is_stopped_then_rests_and_the_host_serves_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut host = with_builtins(dir.path());
    host.load(
        manifest("spin", ""),
        skill_calling("(loop (br 0)) (i64.const 0)", 1).as_bytes(),
    )
    .expect("spin loads");
    for _ in 0..FAILURES_BEFORE_REST {
        let stopped = host.call("spin.run", &json!({}));
        assert!(
            matches!(&stopped, Err(SkillError::RanTooLong { .. })),
            "{stopped:?}"
        );
    }
    let resting = host.call("spin.run", &json!({}));
    assert!(matches!(&resting, Err(SkillError::Resting { .. })), "{resting:?}");
    // The other skills are not affected.
    host.call("list.read", &json!({"list": "shopping"}))
        .expect("lists still answer");
}

#[test]
fn traps_and_memory_past_the_cap_fail_the_call_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut host = host(dir.path());
    host.load(
        manifest("crash", ""),
        skill_calling("(unreachable)", 1).as_bytes(),
    )
    .expect("crash loads");
    let crashed = host.call("crash.run", &json!({}));
    assert!(matches!(&crashed, Err(SkillError::Failed { .. })), "{crashed:?}");
    // 64 pages are 4 MiB, past this skill's 1 MiB.
    host.load(
        manifest("greedy", ""),
        skill_calling("(i64.const 0)", 64).as_bytes(),
    )
    .expect("greedy loads");
    let greedy = host.call("greedy.run", &json!({}));
    assert!(matches!(&greedy, Err(SkillError::Failed { .. })), "{greedy:?}");
    // Asking for 4 GiB while running stops the call.
    host.load(
        manifest("hog", ""),
        skill_calling("(drop (memory.grow (i32.const 65535))) (i64.const 0)", 1).as_bytes(),
    )
    .expect("hog loads");
    match host.call("hog.run", &json!({})) {
        Err(SkillError::Failed { reason, .. }) => assert!(reason.contains("memory"), "{reason}"),
        other => panic!("4 GiB were granted: {other:?}"),
    }
}

#[test]
fn the_timers_skill_words_what_the_desk_keeps_in_the_room_it_was_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let desk = Arc::new(DeskInMemory::default());
    let mut host = host_with(dir.path(), Some(desk.clone()));
    for (manifest, wasm) in crate::builtin::skills() {
        host.load(manifest, wasm).expect("a built-in skill loads");
    }
    let start = |seconds: u64, label: &str| {
        host.call_from(
            Some("kueche"),
            "timer.start",
            &json!({"seconds": seconds, "label": label}),
        )
        .expect("timer.start")
        .reply
    };
    assert_eq!(
        start(600, "pasta"),
        "Okay, a 10-minute pasta timer, starting now."
    );
    assert_eq!(
        start(90, ""),
        "Okay, a timer for 1 minute and 30 seconds, starting now."
    );
    assert_eq!(
        start(7200, "roast"),
        "That is longer than I keep a timer: at most 1 hour."
    );
    assert_eq!(
        desk.kept.lock().expect("desk")[0].1.as_deref(),
        Some("kueche"),
        "an alarm rings in the room it was set in"
    );
    assert_eq!(
        host.call("timer.list", &json!({})).expect("timer.list").reply,
        "The timer for 1 minute and 30 seconds has 1 minute and 30 seconds left and the 10-minute pasta timer has 10 minutes left."
    );
    assert_eq!(
        host.call("timer.cancel", &json!({"label": "eggs"}))
            .expect("cancel")
            .reply,
        "I have no eggs timer."
    );
    assert_eq!(
        host.call("timer.cancel", &json!({"label": "pasta"}))
            .expect("cancel")
            .reply,
        "Okay, I cancelled the 10-minute pasta timer."
    );
    assert_eq!(
        host.call("timer.ring", &json!({"label": "", "seconds": 90, "late": true}))
            .expect("ring")
            .reply,
        "Your timer for 1 minute and 30 seconds finished while I was away."
    );
    let reminded = host
        .call(
            "reminder.add",
            &json!({"text": "to call the dentist", "due_ms": NOW_MS - 1}),
        )
        .expect("reminder.add");
    assert_eq!(reminded.reply, format!("At {} has passed already.", NOW_MS - 1));
    let unsaid = host
        .call(
            "reminder.add",
            &json!({"text": "to water the plants", "due_ms": null}),
        )
        .expect("reminder.add");
    assert!(
        unsaid
            .reply
            .starts_with("When should I remind you to water the plants?"),
        "{}",
        unsaid.reply
    );
    // The ring actions are the host's, not tools for the LLM.
    let tools: Vec<&str> = host
        .actions()
        .filter(|(_, action)| action.tool)
        .map(|(_, action)| action.name.as_str())
        .collect();
    assert!(
        tools.contains(&"timer.start") && !tools.contains(&"timer.ring"),
        "{tools:?}"
    );
}

#[test]
fn alarms_are_lent_only_when_granted_and_only_by_a_host_that_keeps_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut host = host(dir.path());
    let asks_for_alarms = r#"(module
  (import "hauski" "alarm_add" (func (param i32 i32) (result i64)))
  (memory (export "memory") 1))"#;
    let refused = host.load(manifest("sneaky", "kv"), asks_for_alarms.as_bytes());
    assert!(
        matches!(
            &refused,
            Err(SkillError::NotGranted {
                capability: "alarms",
                ..
            })
        ),
        "{refused:?}"
    );
    let mut keeps_none = host_with(dir.path(), None);
    let timers = crate::builtin::skills()
        .into_iter()
        .find(|(manifest, _)| manifest.name == "timers")
        .expect("the timers skill");
    let unlent = keeps_none.load(timers.0, timers.1);
    assert!(
        matches!(&unlent, Err(SkillError::Module { reason, .. }) if reason.contains("keeps no alarms")),
        "{unlent:?}"
    );
}
