//! Wake-word detection as Home Assistant's Assist pipeline runs it: after
//! `detect` and `audio-start`, audio streams in chunks and never stops on its
//! own; a `detection` must go out as soon as the word is heard, mid-stream,
//! and listening goes on for more. `not-detected` answers an `audio-stop`
//! that came without any detection.

use std::sync::mpsc::TryRecvError;

use hauski_audio::live::StreamResampler;
use hauski_voice::ASR_RATE;
use hauski_voice::wake::{WakeDetection, WakeStream};
use serde_json::json;

use super::protocol::WireEvent;
use crate::wake_words::WakeWords;

/// One `detect` stream: a live `hauski-wake` process fed as chunks arrive.
pub struct StreamingDetector {
    stream: WakeStream,
    resampler: StreamResampler,
    detections: usize,
}

impl StreamingDetector {
    /// Starts a helper for the wake words `names` (all when empty), fed
    /// audio at `rate`.
    pub fn start(wake: &WakeWords, names: &[String], rate: u32) -> Result<Self, String> {
        let engine = wake.engine(names)?;
        let stream = engine.stream().map_err(|e| e.to_string())?;
        let resampler = StreamResampler::new(rate, ASR_RATE).map_err(|e| e.to_string())?;
        tracing::debug!(helper = stream.id(), rate, "wyoming wake stream started");
        Ok(Self {
            stream,
            resampler,
            detections: 0,
        })
    }

    /// Feeds one chunk; returns the `detection` events heard so far.
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<WireEvent>, String> {
        let resampled = self.resampler.push(samples).map_err(|e| e.to_string())?;
        self.stream.push(&resampled).map_err(|e| e.to_string())?;
        let mut events = Vec::new();
        loop {
            match self.stream.detections.try_recv() {
                Ok(found) => events.push(self.detection(found)),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return Ok(events),
            }
        }
    }

    /// The end of the audio: the helper finishes what it was given; any
    /// late detections, or `not-detected` when there was none at all.
    /// Blocks until the helper is done (call it off the async threads).
    pub fn finish(mut self) -> Vec<WireEvent> {
        self.stream.close_input();
        let mut events: Vec<WireEvent> = Vec::new();
        while let Ok(found) = self.stream.detections.recv() {
            let event = self.detection(found);
            events.push(event);
        }
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
