//! The service manager's side of the daemon (systemd, `Type=notify`):
//! `READY=1` once every part has started and the API listens, a `STATUS=`
//! line a person sees in `systemctl --user status hauski`, and `WATCHDOG=1`
//! pings while the daemon is alive. The ping comes from a task on the API's
//! runtime (a stuck runtime sends none) and only while the voice loop, when
//! it runs, keeps going round; a stuck loop is reported down and, left so,
//! the service manager restarts the daemon. Without `NOTIFY_SOCKET` (not
//! under systemd) all of this does nothing.

use std::time::Duration;

use sd_notify::NotifyState;

use crate::assistant::SharedAssistant;
use crate::assistant::health::State;

/// A voice loop that has not gone round for this long is stuck: blocks come
/// every 10–20 ms, and a PipeWire restart takes a second or two.
const VOICE_LOOP_STALLED: Duration = Duration::from_secs(10);

/// Tells the service manager the daemon is ready, with a status line.
pub fn ready(status: &str) {
    if let Err(e) = sd_notify::notify(&[NotifyState::Ready, NotifyState::Status(status)]) {
        tracing::warn!(error = %e, "cannot tell the service manager we are ready");
    }
}

/// Pings the service manager's watchdog at half its interval while the
/// daemon is healthy enough to be left running; returns at once when no
/// watchdog is set.
pub async fn watchdog(state: SharedAssistant) {
    let Some(interval) = sd_notify::watchdog_enabled() else {
        return;
    };
    tracing::info!(interval_ms = interval.as_millis() as u64, "service watchdog on");
    let mut ticks = tokio::time::interval(interval / 2);
    let mut stalled = false;
    loop {
        ticks.tick().await;
        stalled = voice_loop_stalled(&state, stalled);
        if stalled {
            continue;
        }
        if let Err(e) = sd_notify::notify(&[NotifyState::Watchdog]) {
            tracing::warn!(error = %e, "cannot ping the service watchdog");
        }
    }
}

/// Whether the voice loop runs but has stopped going round (said once, on
/// `/healthz` too); `was` is the last answer, so a loop that goes round
/// again is reported up again.
fn voice_loop_stalled(state: &SharedAssistant, was: bool) -> bool {
    if !was && !state.health.is_up("voice_loop") {
        return false;
    }
    match state.health.since_beat("voice_loop") {
        Some(quiet) if quiet > VOICE_LOOP_STALLED => {
            if !was {
                let reason = format!("no audio block for {} s", quiet.as_secs());
                tracing::error!(%reason, "the voice loop is stuck; the service manager will restart the daemon");
                state.health.set("voice_loop", State::Down, reason);
            }
            true
        }
        _ => {
            if was {
                state.health.up("voice_loop");
            }
            false
        }
    }
}
