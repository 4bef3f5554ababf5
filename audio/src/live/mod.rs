//! The live audio graph's edges on PipeWire: a capture source (a microphone,
//! or a sink's monitor) delivering 16 kHz mono frames, and a playback sink
//! fed from a queue. Each runs its own PipeWire main loop on its own thread,
//! follows its node by name, and re-attaches when the node comes back after
//! vanishing (device unplugged, null sink removed) or when PipeWire restarts.
//! While HausKI speaks, playback can duck other programs' streams.

mod capture;
mod duck;
pub mod lab;
pub mod monitor;
mod playback;
mod session;
pub mod sinks;
mod stream_format;
mod stream_resampler;

pub use capture::{Capture, CaptureConfig};
pub use playback::{DEFAULT_SINK, Playback, PlaybackEvent};
pub use stream_resampler::StreamResampler;

/// The buffer size both edges ask PipeWire for (about 11 ms): the graph
/// runs at the smallest latency any of its streams asks for.
const LOW_LATENCY: &str = "512/48000";

/// PipeWire is initialised once per process, whichever edge starts first.
fn init() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(pipewire::init);
}

/// Whether a PipeWire daemon answers at `remote` (the user's when `None`):
/// the daemon turns its voice loop off, with this reason, when not.
pub fn probe(remote: Option<&str>) -> Result<(), crate::AudioError> {
    init();
    session::Session::connect(remote)
        .map(drop)
        .map_err(crate::AudioError::Device)
}
