//! Writing 16-bit mono WAV, the format every player and `hauski transcribe` reads.

use std::io::Cursor;
use std::path::Path;

use crate::AudioError;

/// Encodes mono `samples` at `rate` as a 16-bit PCM WAV in memory.
pub fn encode_wav(samples: &[f32], rate: u32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    // Writing into a Vec cannot fail for I/O reasons, and the spec is valid, so
    // the only errors hound could return are unreachable here.
    if let Ok(mut writer) = hound::WavWriter::new(&mut cursor, spec) {
        for &s in samples {
            let v = (s.clamp(-1.0, 1.0) * f32::from(i16::MAX)) as i16;
            let _ = writer.write_sample(v);
        }
        let _ = writer.finalize();
    }
    cursor.into_inner()
}

/// Writes mono `samples` at `rate` to `path` atomically (temp file + rename), so
/// an interrupted write never leaves a half file where a good one was.
pub fn write_wav(path: &Path, samples: &[f32], rate: u32) -> Result<(), AudioError> {
    let fail = |reason: String| AudioError::Write {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = encode_wav(samples, rate);
    let tmp = path.with_extension("wav.tmp");
    std::fs::write(&tmp, bytes).map_err(|e| fail(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_decoder() {
        let samples = vec![0.0, 0.5, -0.5, 0.25];
        let bytes = encode_wav(&samples, 22_050);
        let back = crate::decode_bytes(&bytes, "mem").expect("decodes");
        assert_eq!(back.sample_rate, 22_050);
        for (a, b) in samples.iter().zip(&back.samples) {
            assert!((a - b).abs() < 1e-3);
        }
    }
}
