//! Speaking a whole text with the shared voice: the API's `/v1/audio/speech`
//! and Wyoming's `synthesize` both come here.

use std::sync::{Arc, Mutex};

use hauski_voice::PiperVoice;

#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    /// The text cannot be spoken (the voice says why).
    #[error("{0}")]
    Voice(#[from] hauski_voice::VoiceError),
    #[error("the speech synthesis task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Speaks `text` at `speed` times the profile's pace, off the async
/// threads. The voice is shared, so the pace is set and restored under its
/// lock. Returns the samples and their rate.
pub async fn synthesize(
    voice: Arc<Mutex<PiperVoice>>,
    text: String,
    speed: f32,
) -> Result<(Vec<f32>, u32), SpeechError> {
    tokio::task::spawn_blocking(move || {
        let _span = tracing::info_span!("tts", chars = text.len()).entered();
        let mut voice = voice.lock().unwrap_or_else(|p| p.into_inner());
        let rate = voice.speaking_rate();
        voice.set_speaking_rate(rate * speed);
        let result = voice.synthesize_all(&text);
        voice.set_speaking_rate(rate);
        Ok((result?, voice.sample_rate()))
    })
    .await?
}

/// Gives the shared voice `profile`'s pace, loudness and liveliness.
pub fn use_profile(voice: &mut PiperVoice, profile: &crate::config::Profile) {
    voice.set_speaking_rate(profile.speaking_rate);
    voice.set_volume(profile.volume);
    voice.set_variation(profile.variation);
}
