use std::path::PathBuf;

/// Everything that can go wrong reading, converting or writing audio.
///
/// Each variant names the file (or stream) and says what the user can do about
/// it, because these errors reach the command line unchanged.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("cannot read audio file {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{source_name} is not a WAV, FLAC, MP3, M4A/MP4, Ogg (Vorbis, Opus) or WebM file (it starts with {magic:?}); convert it first, e.g. `sox {source_name} -r 16000 -c 1 out.wav`"
    )]
    NotAudio { source_name: String, magic: String },
    #[error(
        "{source_name} is a damaged WAV file ({reason}); re-record or re-export it, e.g. `sox {source_name} fixed.wav`"
    )]
    CorruptWav { source_name: String, reason: String },
    #[error("{source_name} is a damaged FLAC file ({reason}); re-encode it, e.g. `flac -d {source_name}`")]
    CorruptFlac { source_name: String, reason: String },
    #[error(
        "{source_name} is a damaged {container} file ({reason}); re-encode it, e.g. `ffmpeg -i {source_name} out.wav`"
    )]
    CorruptCompressed {
        source_name: String,
        container: &'static str,
        reason: String,
    },
    #[error("{source_name} is longer than {max_seconds} s; send a shorter recording or cut it first")]
    TooLong { source_name: String, max_seconds: f64 },
    #[error("{source_name} holds no audio samples; record at least a second of speech")]
    Empty { source_name: String },
    #[error(
        "{source_name} uses an unsupported sample format ({format}); use 8/16/24/32-bit PCM or 32-bit float"
    )]
    UnsupportedFormat { source_name: String, format: String },
    #[error("cannot resample from {from} Hz to {to} Hz: {reason}")]
    Resample { from: u32, to: u32, reason: String },
    #[error("cannot write WAV {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("audio device: {0}")]
    Device(String),
}
