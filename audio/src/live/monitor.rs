//! What a node of a [`PipeWireLab`] plays, as a trace of timestamped block
//! peaks: tests and benches time sounds against each other with it (a
//! question's end at the microphone, the first answer audio at a sink, the
//! silence after a barge-in), wall-clock time between two sounds.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::lab::PipeWireLab;
use super::{Capture, CaptureConfig};
use crate::AudioError;

/// Block peaks at a node's monitor, as they arrive; the capture runs as long as the trace lives.
pub struct MonitorTrace {
    blocks: Arc<Mutex<Vec<(Instant, f32)>>>,
    /// A peak above this is sound.
    loud: f32,
    _capture: Capture,
}

impl MonitorTrace {
    /// Follows what `node` (a sink) plays, at `rate`, in `lab`.
    pub fn start(lab: &PipeWireLab, node: &str, rate: u32, loud: f32) -> Result<Self, AudioError> {
        let mut config = CaptureConfig::new(Some(node.to_string()), true, rate);
        config.remote = Some(lab.socket());
        let (capture, frames) = Capture::start(config)?;
        let blocks: Arc<Mutex<Vec<(Instant, f32)>>> = Arc::default();
        let kept = blocks.clone();
        std::thread::Builder::new()
            .name(format!("monitor-{node}"))
            .spawn(move || {
                for block in frames {
                    let peak = block.iter().fold(0.0f32, |m, s| m.max(s.abs()));
                    kept.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((Instant::now(), peak));
                }
            })
            .map_err(|e| AudioError::Device(format!("cannot follow {node}: {e}")))?;
        Ok(Self {
            blocks,
            loud,
            _capture: capture,
        })
    }

    fn with_blocks<T>(&self, read: impl FnOnce(&[(Instant, f32)]) -> T) -> T {
        read(&self.blocks.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The first sound after `since`.
    pub fn first_loud_after(&self, since: Instant) -> Option<Instant> {
        self.with_blocks(|b| {
            b.iter()
                .find(|(t, p)| *t > since && *p > self.loud)
                .map(|(t, _)| *t)
        })
    }

    /// The last sound after `since` (the end of what was played since then).
    pub fn last_loud_after(&self, since: Instant) -> Option<Instant> {
        self.with_blocks(|b| {
            b.iter()
                .rev()
                .find(|(t, p)| *t > since && *p > self.loud)
                .map(|(t, _)| *t)
        })
    }

    /// Where the first silence of at least `quiet_for` after `since` starts.
    pub fn first_quiet_after(&self, since: Instant, quiet_for: Duration) -> Option<Instant> {
        self.with_blocks(|blocks| {
            let mut start = None;
            for (t, p) in blocks.iter().filter(|(t, _)| *t > since) {
                if *p <= self.loud {
                    let s = *start.get_or_insert(*t);
                    if *t - s >= quiet_for {
                        return Some(s);
                    }
                } else {
                    start = None;
                }
            }
            None
        })
    }
}
