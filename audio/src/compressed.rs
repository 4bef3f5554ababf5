//! Compressed recordings as people send them: MP3, AAC in MP4/M4A, Vorbis or
//! Opus in Ogg (voice notes) or WebM (browsers' recorders). Demuxed and
//! decoded by symphonia; Opus, which symphonia lacks, by libopus through its
//! adapter.

use std::io::Cursor;
use std::sync::OnceLock;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::codecs::registry::CodecRegistry;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::{AudioBuffer, AudioError};

/// A container HausKI recognises by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Container {
    /// MPEG audio (MP3), with or without an ID3 tag, or raw ADTS AAC.
    Mpeg,
    /// ISO base media: MP4, M4A.
    Mp4,
    Ogg,
    /// Matroska, WebM.
    Matroska,
}

impl Container {
    pub(crate) fn sniff(bytes: &[u8]) -> Option<Self> {
        let starts = |magic: &[u8]| bytes.starts_with(magic);
        if starts(b"ID3") || (bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0) {
            Some(Self::Mpeg)
        } else if bytes.len() >= 8 && &bytes[4..8] == b"ftyp" {
            Some(Self::Mp4)
        } else if starts(b"OggS") {
            Some(Self::Ogg)
        } else if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
            Some(Self::Matroska)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Mpeg => "MP3",
            Self::Mp4 => "MP4/M4A",
            Self::Ogg => "Ogg",
            Self::Matroska => "WebM/Matroska",
        }
    }
}

/// symphonia's codecs plus libopus.
fn codecs() -> &'static CodecRegistry {
    static CODECS: OnceLock<CodecRegistry> = OnceLock::new();
    CODECS.get_or_init(|| {
        let mut registry = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut registry);
        registry.register_audio_decoder::<symphonia_adapter_libopus::OpusDecoder>();
        registry
    })
}

/// Decodes a whole compressed recording. Decoding stops with an error once
/// it passes `max_seconds`: a few megabytes of MP3 can hold hours, and the
/// decoded samples would fill memory long before any later length check.
pub(crate) fn decode(
    bytes: &[u8],
    container: Container,
    source_name: &str,
    max_seconds: f64,
) -> Result<AudioBuffer, AudioError> {
    let corrupt = |reason: String| AudioError::CorruptCompressed {
        source_name: source_name.to_string(),
        container: container.name(),
        reason,
    };
    let stream = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut format = symphonia::default::get_probe()
        .probe(
            &Hint::new(),
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| corrupt(e.to_string()))?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| corrupt("it has no audio track".into()))?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| corrupt("its audio track has no codec parameters".into()))?;
    let mut decoder = codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| AudioError::UnsupportedFormat {
            source_name: source_name.to_string(),
            format: format!("{} with a codec HausKI cannot decode ({e})", container.name()),
        })?;

    let mut samples = Vec::new();
    let mut scratch: Vec<f32> = Vec::new();
    let mut spec: Option<(u32, u16)> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A stream cut short ends where it ends, as a truncated upload does.
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(corrupt(e.to_string())),
        };
        if packet.track_id != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            // One damaged frame is skipped, as players do; the rest still counts.
            Err(SymphoniaError::DecodeError(reason)) => {
                tracing::debug!(source = source_name, reason, "skipped a damaged frame");
                continue;
            }
            Err(e) => return Err(corrupt(e.to_string())),
        };
        let rate = decoded.spec().rate();
        let channels = u16::try_from(decoded.spec().channels().count()).unwrap_or(u16::MAX);
        let (first_rate, first_channels) = *spec.get_or_insert((rate, channels));
        if (rate, channels) != (first_rate, first_channels) {
            return Err(corrupt(format!(
                "its format changes mid-stream ({first_rate} Hz × {first_channels} → {rate} Hz × {channels})"
            )));
        }
        decoded.copy_to_vec_interleaved(&mut scratch);
        samples.extend_from_slice(&scratch);
        let seconds = samples.len() as f64 / f64::from(channels.max(1)) / f64::from(rate.max(1));
        if seconds > max_seconds {
            return Err(AudioError::TooLong {
                source_name: source_name.to_string(),
                max_seconds,
            });
        }
    }
    let Some((sample_rate, channels)) = spec.filter(|_| !samples.is_empty()) else {
        return Err(AudioError::Empty {
            source_name: source_name.to_string(),
        });
    };
    Ok(AudioBuffer {
        sample_rate,
        channels,
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_told_apart_by_their_first_bytes() {
        assert_eq!(Container::sniff(b"ID3\x04\0\0"), Some(Container::Mpeg));
        assert_eq!(Container::sniff(&[0xFF, 0xFB, 0x90, 0x64]), Some(Container::Mpeg));
        assert_eq!(Container::sniff(b"\0\0\0\x20ftypM4A "), Some(Container::Mp4));
        assert_eq!(Container::sniff(b"OggS\0\x02"), Some(Container::Ogg));
        assert_eq!(
            Container::sniff(&[0x1A, 0x45, 0xDF, 0xA3, 0x9F]),
            Some(Container::Matroska)
        );
        assert_eq!(Container::sniff(b"<html>"), None);
        assert_eq!(Container::sniff(b""), None);
    }

    #[test]
    fn a_damaged_stream_is_named_not_panicked_on() {
        let mut bytes = b"OggS".to_vec();
        bytes.extend(std::iter::repeat_n(0x55, 400));
        let refused = decode(&bytes, Container::Ogg, "note.ogg", 60.0).expect_err("garbage");
        let message = refused.to_string();
        assert!(
            message.contains("note.ogg") && message.contains("Ogg"),
            "{message}"
        );
    }
}
