//! One thread per enabled adapter, calling its `NAME.poll` action again
//! and again: each call is a long-poll that returns when messages arrive
//! (or the wait ends). A failing adapter (a dead server, malformed JSON, a
//! trap, a refused host) backs off, one second doubling to a minute, and is
//! tried again; it never stops the daemon or the other adapters.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hauski_skills::host::SkillError;
use serde_json::json;

use super::AdapterSettings;
use crate::assistant::everyday::Everyday;

/// How long one long-poll waits for messages, unless the adapter's
/// settings say otherwise (`wait_s`).
const WAIT_S: u64 = 25;
/// The longest back-off after failures.
const LONGEST_BACK_OFF: Duration = Duration::from_secs(60);
/// A poll that answers sooner than this with nothing is not repeated at
/// once (a server that does not long-poll).
const QUICKEST_EMPTY_POLL: Duration = Duration::from_secs(1);

/// Starts polling every loaded adapter that `settings` enables.
pub fn start_polling(everyday: &Arc<Everyday>, settings: &AdapterSettings) -> std::io::Result<Vec<String>> {
    let mut started = Vec::new();
    let adapters: Vec<String> = everyday
        .skills()
        .adapters()
        .map(|(name, _)| name.to_string())
        .collect();
    for name in adapters {
        let Some(state) = settings.get(&name).filter(|s| s.enabled) else {
            tracing::debug!(adapter = %name, "adapter not enabled");
            continue;
        };
        let wait_s = state
            .settings
            .get("wait_s")
            .and_then(|w| w.parse().ok())
            .unwrap_or(WAIT_S);
        let args = json!({"settings": state.settings, "wait_s": wait_s});
        let everyday = everyday.clone();
        let adapter = name.clone();
        std::thread::Builder::new()
            .name(format!("adapter-{name}"))
            .spawn(move || poll_forever(&everyday, &adapter, &args))?;
        started.push(name);
    }
    Ok(started)
}

fn poll_forever(everyday: &Everyday, adapter: &str, args: &serde_json::Value) {
    let action = format!("{adapter}.poll");
    let skills = everyday.skills();
    if let Err(e) = skills.audit(adapter, "started", "polling for messages") {
        tracing::error!(error = %e, "the audit log cannot be written; the adapter does not start");
        return;
    }
    tracing::info!(adapter, "adapter polling");
    let mut failures = 0u32;
    loop {
        let began = Instant::now();
        let _span = tracing::info_span!("adapter_poll", adapter).entered();
        let wait = match skills.call(&action, args) {
            Ok(reply) => {
                if failures > 0 {
                    tracing::info!(adapter, after = failures, "adapter recovered");
                }
                failures = 0;
                let messages = reply.data["messages"].as_u64().unwrap_or(0);
                if messages > 0 {
                    tracing::info!(adapter, messages, "messages in");
                }
                (messages == 0).then(|| QUICKEST_EMPTY_POLL.saturating_sub(began.elapsed()))
            }
            Err(SkillError::Resting { wait_s, .. }) => Some(Duration::from_secs(wait_s)),
            Err(error) => {
                failures += 1;
                let back_off = Duration::from_secs(1 << (failures - 1).min(6)).min(LONGEST_BACK_OFF);
                tracing::warn!(adapter, %error, back_off_s = back_off.as_secs(), "adapter failed; backing off");
                Some(back_off)
            }
        };
        if let Some(wait) = wait.filter(|w| !w.is_zero()) {
            std::thread::sleep(wait);
        }
    }
}
