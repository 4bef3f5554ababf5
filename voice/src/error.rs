use std::path::PathBuf;

/// Errors from the speech stages. Model errors name the file and the fix,
/// because they are what a user sees first on a fresh install.
#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error(
        "model file {path} is missing; run `hauski models pull {hint}` or set HAUSKI_MODELS to the folder that holds it"
    )]
    ModelMissing { path: PathBuf, hint: String },
    #[error("cannot load Whisper model {path}: {reason}; check it with `hauski models verify`")]
    AsrLoad { path: PathBuf, reason: String },
    #[error("speech recognition failed: {0}")]
    Asr(String),
    #[error("speech recognition was abandoned before it finished")]
    Aborted,
    #[error(
        "no speech found in {0}; speak louder or closer to the microphone, or check the file is not silent"
    )]
    NoSpeech(String),
    #[error("cannot load Piper voice {path}: {reason}")]
    VoiceLoad { path: PathBuf, reason: String },
    #[error(transparent)]
    Runtime(#[from] hauski_onnxruntime::RuntimeError),
    #[error("espeak-ng failed: {0}; install Debian's `espeak-ng-data`")]
    Phonemes(String),
    #[error("nothing to say: the text is empty")]
    EmptyText,
    #[error("speech synthesis failed: {0}")]
    Synthesis(String),
    #[error("wake word: {0}")]
    Wake(String),
    #[error(
        "wake-word model {0} is missing; run `scripts/fetch-wake-features.sh` (the feature models) or `scripts/train-wake.py` (a wake word), or set HAUSKI_MODELS to the folder that holds it"
    )]
    WakeModelMissing(PathBuf),
    #[error("audio for {stage} must be {expected} Hz, got {got} Hz")]
    WrongRate {
        stage: &'static str,
        expected: u32,
        got: u32,
    },
}
