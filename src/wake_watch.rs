//! The live wake-word detector, kept running for the voice loop and for a
//! satellite. A detector whose models fail mid-stream is logged, reported
//! down on `/healthz`, and started again: at once the first time, then after
//! a growing pause (never more than [`MOST_BACK_OFF`]), so one that cannot
//! run does not spin. While it is down the loop goes on without wake words,
//! answers keep playing.

use std::time::{Duration, Instant};

use hauski_voice::wake::{WakeDetection, WakeEngine, WakeStream};

/// Told each change: `None` when the detector runs, `Some(reason)` when it is down.
pub type WakeReport = Box<dyn Fn(Option<&str>) + Send>;

/// Longest pause between two restarts.
const MOST_BACK_OFF: Duration = Duration::from_secs(5);
/// A detector that ran this long has its back-off forgotten.
const STEADY_AFTER: Duration = Duration::from_secs(30);

pub struct WakeWatch {
    engine: WakeEngine,
    report: WakeReport,
    stream: Option<WakeStream>,
    started: Instant,
    /// Restarts in a row without a steady run.
    restarts: u32,
    retry_at: Instant,
    /// Samples fed to the stream running now (its detections' time base).
    fed: usize,
}

impl WakeWatch {
    /// Starts the detector; the loop does not start without one that runs.
    pub fn start(engine: WakeEngine, report: WakeReport) -> Result<Self, String> {
        let stream = engine.stream().map_err(|e| e.to_string())?;
        report(None);
        Ok(Self {
            engine,
            report,
            stream: Some(stream),
            started: Instant::now(),
            restarts: 0,
            retry_at: Instant::now(),
            fed: 0,
        })
    }

    /// How long after the chunk it was heard in the first of `detections`
    /// was reported: audio fed since then, in ms (at most a block and a chunk).
    pub fn detection_lag_ms(&self, detections: &[WakeDetection]) -> Option<f64> {
        let detection = detections.first()?;
        let fed_ms = self.fed as f64 * 1000.0 / f64::from(hauski_voice::ASR_RATE);
        Some((fed_ms - detection.timestamp_ms as f64).max(0.0))
    }

    /// Whether a wake word may be on its way: see [`WakeStream::undecided`].
    pub fn undecided(&self) -> bool {
        self.stream.as_ref().is_some_and(WakeStream::undecided)
    }

    /// Feeds one block; the wake words detected in it.
    pub fn push(&mut self, block: &[f32]) -> Vec<WakeDetection> {
        if self.stream.is_none() && Instant::now() >= self.retry_at {
            self.restart();
        }
        let Some(stream) = &mut self.stream else {
            return Vec::new();
        };
        match stream.push(block) {
            Ok(found) => {
                self.fed += block.len();
                found
            }
            Err(e) => {
                self.lost(&e.to_string());
                Vec::new()
            }
        }
    }

    fn lost(&mut self, reason: &str) {
        self.stream = None;
        if self.started.elapsed() >= STEADY_AFTER {
            self.restarts = 0;
        }
        let pause = back_off(self.restarts);
        self.retry_at = Instant::now() + pause;
        tracing::error!(%reason, retry_in_ms = pause.as_millis() as u64, "wake words are off; restarting the detector");
        (self.report)(Some(reason));
    }

    fn restart(&mut self) {
        self.restarts += 1;
        match self.engine.stream() {
            Ok(stream) => {
                tracing::info!(restarts = self.restarts, "the wake-word detector runs again");
                self.stream = Some(stream);
                self.fed = 0;
                self.started = Instant::now();
                (self.report)(None);
            }
            Err(e) => self.lost(&e.to_string()),
        }
    }
}

/// The pause before restart number `restarts + 1`: none, then 0.25 s,
/// doubling up to [`MOST_BACK_OFF`].
fn back_off(restarts: u32) -> Duration {
    match restarts {
        0 => Duration::ZERO,
        n => (Duration::from_millis(250) * 2u32.saturating_pow(n - 1)).min(MOST_BACK_OFF),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restarts_come_at_once_then_ever_later_up_to_five_seconds() {
        let pauses: Vec<u128> = (0..8).map(|n| back_off(n).as_millis()).collect();
        assert_eq!(pauses, [0, 250, 500, 1000, 2000, 4000, 5000, 5000]);
    }
}
