//! Piper text-to-speech: espeak-ng phonemes → the voice's phoneme ids → VITS on
//! ONNX Runtime → PCM at the voice's own rate.
//!
//! piper-rs would do this but cannot build offline (its espeak build clones
//! from the network), so the three steps are wired here from espeakng-sys and
//! ort; see ARCHITECTURE.md.

mod phonemes;
mod piper;

pub use piper::PiperVoice;
