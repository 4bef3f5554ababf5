//! Wake-word detection as Home Assistant's Assist pipeline runs it: after
//! `detect` and `audio-start`, audio streams in chunks and never stops on its
//! own; a `detection` must go out as soon as the word is heard, mid-stream,
//! and listening goes on for more. `not-detected` answers an `audio-stop`
//! that came without any detection.

use hauski_audio::live::StreamResampler;
use hauski_voice::ASR_RATE;
use hauski_voice::wake::{WakeDetection, WakeStream};
use serde_json::json;

use super::protocol::WireEvent;
use crate::wake_words::WakeWords;

/// One `detect` stream: a live detector fed as chunks arrive.
pub struct StreamingDetector {
    stream: WakeStream,
    resampler: StreamResampler,
    detections: usize,
}

impl StreamingDetector {
    /// Starts a detector for the wake words `names` (all when empty), fed
    /// audio at `rate`.
    pub fn start(wake: &WakeWords, names: &[String], rate: u32) -> Result<Self, String> {
        let engine = wake.engine(names)?;
        let stream = engine.stream().map_err(|e| e.to_string())?;
        let resampler = StreamResampler::new(rate, ASR_RATE).map_err(|e| e.to_string())?;
        tracing::debug!(rate, "wyoming wake stream started");
        Ok(Self {
            stream,
            resampler,
            detections: 0,
        })
    }

    /// Feeds one chunk; returns the `detection` events heard in it.
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<WireEvent>, String> {
        let resampled = self.resampler.push(samples).map_err(|e| e.to_string())?;
        let found = self.stream.push(&resampled).map_err(|e| e.to_string())?;
        Ok(found.into_iter().map(|d| self.detection(d)).collect())
    }

    /// The end of the audio: any detection in the last partial chunk, or
    /// `not-detected` when there was none at all.
    pub fn finish(mut self) -> Vec<WireEvent> {
        let mut events: Vec<WireEvent> = match self.stream.finish() {
            Ok(found) => found.into_iter().map(|d| self.detection(d)).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "wyoming wake stream failed at its end");
                Vec::new()
            }
        };
        if self.detections == 0 {
            events.push(WireEvent::new("not-detected", json!({})));
        }
        events
    }

    fn detection(&mut self, found: WakeDetection) -> WireEvent {
        self.detections += 1;
        tracing::info!(name = %found.name, at_ms = found.timestamp_ms, score = found.score, "wyoming wake word detected");
        WireEvent::new(
            "detection",
            json!({"name": found.name, "timestamp": found.timestamp_ms}),
        )
    }
}
