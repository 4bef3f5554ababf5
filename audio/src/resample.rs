//! Sample-rate conversion with rubato's synchronous FFT resampler.
//!
//! Recorded files have a fixed, known rate, so the synchronous resampler fits:
//! it is the fastest rubato offers and keeps the clip length exact.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::AudioError;

/// Converts mono `samples` from `from` Hz to `to` Hz. Equal rates are a copy.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>, AudioError> {
    if from == to || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let fail = |reason: String| AudioError::Resample { from, to, reason };
    let mut resampler = Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Input)
        .map_err(|e| fail(e.to_string()))?;
    let input = InterleavedSlice::new(samples, 1, samples.len()).map_err(|e| fail(e.to_string()))?;
    let output = resampler
        .process_all(&input, samples.len(), None)
        .map_err(|e| fail(e.to_string()))?;
    Ok(output.take_data())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_duration_and_frequency() {
        let from = 22_050;
        let tone: Vec<f32> = (0..from)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / from as f32).sin() * 0.5)
            .collect();
        let out = resample(&tone, from, 16_000).expect("resamples");
        assert!((out.len() as i64 - 16_000).abs() <= 2, "len {}", out.len());
        // Count zero crossings: a 440 Hz tone crosses zero ~880 times per second.
        let crossings = out.windows(2).filter(|w| w[0] <= 0.0 && w[1] > 0.0).count();
        assert!((435..=445).contains(&crossings), "crossings {crossings}");
    }
}
