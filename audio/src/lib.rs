//! Audio files in and out, and conversion to the pipeline's sample rate.
//!
//! This crate is the edge of the audio graph that touches files: it decodes WAV,
//! FLAC and compressed recordings (MP3, M4A, Ogg, WebM) into floating-point samples, folds channels to mono, resamples with
//! rubato and writes WAV. It knows nothing of speech: voice activity, wake words
//! and transcription live in `hauski-voice`, which only ever sees `&[f32]`.

mod compressed;
mod decode;
mod error;
pub mod live;
mod resample;
pub mod tones;
mod wav_out;

pub use decode::{AudioBuffer, MAX_DECODED_SECONDS, decode_bytes, decode_bytes_within, read_file};
pub use error::AudioError;
pub use resample::resample;
pub use wav_out::{encode_wav, write_wav};

/// The rate every speech stage works at (Whisper, webrtc-vad, wake words).
pub const SPEECH_RATE: u32 = 16_000;

/// Reads any supported audio file and returns mono samples at `rate`.
///
/// This is the one call the pipeline needs for recorded input: it decodes,
/// mixes down and resamples, and rejects empty audio with an error that names
/// the file, so later stages never see zero samples.
pub fn load_mono(path: &std::path::Path, rate: u32) -> Result<Vec<f32>, AudioError> {
    let buffer = read_file(path)?;
    if buffer.frames() == 0 {
        return Err(AudioError::Empty {
            source_name: path.display().to_string(),
        });
    }
    let mono = buffer.to_mono();
    let _span = tracing::debug_span!("resample", from = buffer.sample_rate, to = rate).entered();
    resample(&mono, buffer.sample_rate, rate)
}

/// Like [`load_mono`], for audio that arrived in memory (an upload, a stream);
/// `source_name` names it in errors.
pub fn decode_mono(bytes: &[u8], source_name: &str, rate: u32) -> Result<Vec<f32>, AudioError> {
    decode_mono_within(bytes, source_name, rate, MAX_DECODED_SECONDS)
}

/// Like [`decode_mono`], refusing audio longer than `max_seconds` before it
/// is decoded whole (an upload's limit).
pub fn decode_mono_within(
    bytes: &[u8],
    source_name: &str,
    rate: u32,
    max_seconds: f64,
) -> Result<Vec<f32>, AudioError> {
    let buffer = decode_bytes_within(bytes, source_name, max_seconds)?;
    if buffer.frames() == 0 {
        return Err(AudioError::Empty {
            source_name: source_name.to_string(),
        });
    }
    let mono = buffer.to_mono();
    let _span = tracing::debug_span!("resample", from = buffer.sample_rate, to = rate).entered();
    resample(&mono, buffer.sample_rate, rate)
}
