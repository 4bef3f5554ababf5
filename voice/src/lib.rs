//! Speech: finding the utterance (webrtc-vad), hearing it (whisper.cpp) and
//! speaking answers (Piper voices on ONNX Runtime, phonemes from espeak-ng).
//!
//! Every stage here takes and returns plain `f32` samples at a stated rate; this
//! crate never opens audio files or devices (that is `hauski-audio`'s job) and
//! never decides what to say (that is `hauski-brain`'s).

mod asr;
mod error;
mod sentences;
mod tts;
mod vad;
pub mod wake;

pub use asr::{Segment, Transcriber, Transcript};
pub use error::VoiceError;
pub use sentences::{ends_a_sentence, split_sentences};
pub use tts::PiperVoice;
pub use vad::{
    Endpointer, FRAME_MS as VAD_FRAME_MS, SpeechEvent, Utterance, VadConfig, find_utterance, speech_span,
};

/// The rate whisper.cpp and webrtc-vad expect.
pub const ASR_RATE: u32 = 16_000;
