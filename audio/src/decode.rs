//! Decoding WAV (hound), FLAC (claxon) and compressed recordings
//! ([`crate::compressed`]) into interleaved `f32` samples.

use std::io::Cursor;
use std::path::Path;

use crate::AudioError;
use crate::compressed::{self, Container};

/// The longest audio decoded when the caller names no limit: an hour.
pub const MAX_DECODED_SECONDS: f64 = 3600.0;

/// Decoded audio, interleaved, in the file's own rate and channel count.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioBuffer {
    pub sample_rate: u32,
    pub channels: u16,
    /// Interleaved samples in `[-1.0, 1.0]`.
    pub samples: Vec<f32>,
}

impl AudioBuffer {
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }

    pub fn duration_s(&self) -> f64 {
        self.frames() as f64 / f64::from(self.sample_rate.max(1))
    }

    /// Averages all channels into one; speech stages are mono.
    pub fn to_mono(&self) -> Vec<f32> {
        let channels = usize::from(self.channels.max(1));
        if channels == 1 {
            return self.samples.clone();
        }
        self.samples
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() / channels as f32)
            .collect()
    }
}

/// Reads and decodes the file at `path`, choosing the decoder by content, not
/// by extension, so a mislabelled or non-audio file gets a precise error.
pub fn read_file(path: &Path) -> Result<AudioBuffer, AudioError> {
    let bytes = std::fs::read(path).map_err(|source| AudioError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    decode_bytes(&bytes, &path.display().to_string())
}

/// Decodes an in-memory recording (WAV, FLAC, MP3, M4A, Ogg, WebM); `source_name` is used in errors.
pub fn decode_bytes(bytes: &[u8], source_name: &str) -> Result<AudioBuffer, AudioError> {
    decode_bytes_within(bytes, source_name, MAX_DECODED_SECONDS)
}

/// Like [`decode_bytes`], refusing audio longer than `max_seconds`.
pub fn decode_bytes_within(
    bytes: &[u8],
    source_name: &str,
    max_seconds: f64,
) -> Result<AudioBuffer, AudioError> {
    let _span = tracing::debug_span!("decode", source = source_name, bytes = bytes.len()).entered();
    let buffer = if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
        decode_wav(bytes, source_name)?
    } else if bytes.len() >= 4 && &bytes[0..4] == b"fLaC" {
        decode_flac(bytes, source_name)?
    } else if let Some(container) = Container::sniff(bytes) {
        compressed::decode(bytes, container, source_name, max_seconds)?
    } else if bytes.is_empty() {
        return Err(AudioError::Empty {
            source_name: source_name.to_string(),
        });
    } else {
        let magic: String = bytes
            .iter()
            .take(4)
            .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
            .collect();
        return Err(AudioError::NotAudio {
            source_name: source_name.to_string(),
            magic,
        });
    };
    // WAV and FLAC decode to about their own size, so the upload's byte
    // limit bounds them; the length limit still holds for every format.
    if buffer.duration_s() > max_seconds {
        return Err(AudioError::TooLong {
            source_name: source_name.to_string(),
            max_seconds,
        });
    }
    Ok(buffer)
}

fn decode_wav(bytes: &[u8], source_name: &str) -> Result<AudioBuffer, AudioError> {
    let corrupt = |e: hound::Error| AudioError::CorruptWav {
        source_name: source_name.to_string(),
        reason: e.to_string(),
    };
    let reader = hound::WavReader::new(Cursor::new(bytes)).map_err(corrupt)?;
    let spec = reader.spec();
    if spec.channels == 0 || spec.sample_rate == 0 {
        return Err(AudioError::CorruptWav {
            source_name: source_name.to_string(),
            reason: format!(
                "header says {} channels at {} Hz",
                spec.channels, spec.sample_rate
            ),
        });
    }
    // A truncated file has fewer samples than its header promises: hound reports
    // that as an error on the last sample, which we surface instead of padding.
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float if spec.bits_per_sample == 32 => reader
            .into_samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(corrupt)?,
        hound::SampleFormat::Int if (1..=32).contains(&spec.bits_per_sample) => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(corrupt)?
        }
        format => {
            return Err(AudioError::UnsupportedFormat {
                source_name: source_name.to_string(),
                format: format!("{format:?} {} bit", spec.bits_per_sample),
            });
        }
    };
    Ok(AudioBuffer {
        sample_rate: spec.sample_rate,
        channels: spec.channels,
        samples,
    })
}

fn decode_flac(bytes: &[u8], source_name: &str) -> Result<AudioBuffer, AudioError> {
    let corrupt = |e: claxon::Error| AudioError::CorruptFlac {
        source_name: source_name.to_string(),
        reason: e.to_string(),
    };
    let mut reader = claxon::FlacReader::new(Cursor::new(bytes)).map_err(corrupt)?;
    let info = reader.streaminfo();
    if info.bits_per_sample == 0 || info.bits_per_sample > 32 {
        return Err(AudioError::UnsupportedFormat {
            source_name: source_name.to_string(),
            format: format!("FLAC {} bit", info.bits_per_sample),
        });
    }
    let scale = 1.0 / (1u64 << (info.bits_per_sample - 1)) as f32;
    let samples = reader
        .samples()
        .map(|s| s.map(|v| v as f32 * scale))
        .collect::<Result<Vec<f32>, _>>()
        .map_err(corrupt)?;
    Ok(AudioBuffer {
        sample_rate: info.sample_rate,
        channels: u16::try_from(info.channels).unwrap_or(1),
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav_bytes(spec: hound::WavSpec, samples: &[i16]) -> Vec<u8> {
        let mut cursor = Cursor::new(Vec::new());
        let mut writer = hound::WavWriter::new(&mut cursor, spec).expect("writer");
        for &s in samples {
            writer.write_sample(s).expect("sample");
        }
        writer.finalize().expect("finalize");
        cursor.into_inner()
    }

    #[test]
    fn stereo_wav_mixes_down_to_mono() {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let bytes = wav_bytes(spec, &[16384, 0, -16384, -16384]);
        let buffer = decode_bytes(&bytes, "t.wav").expect("decodes");
        assert_eq!(buffer.frames(), 2);
        assert_eq!(buffer.to_mono(), vec![0.25, -0.5]);
    }

    #[test]
    fn truncated_wav_is_reported_not_padded() {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let bytes = wav_bytes(spec, &[1000; 1000]);
        let cut = &bytes[..bytes.len() - 501];
        let err = decode_bytes(cut, "cut.wav").expect_err("must fail");
        assert!(matches!(err, AudioError::CorruptWav { .. }), "{err}");
        assert!(err.to_string().contains("cut.wav"));
    }

    #[test]
    fn text_is_not_audio() {
        let err = decode_bytes(b"hello world, not audio", "notes.txt").expect_err("must fail");
        assert!(matches!(err, AudioError::NotAudio { .. }));
        assert!(err.to_string().contains("notes.txt"));
        assert!(err.to_string().contains("sox"));
    }
}
