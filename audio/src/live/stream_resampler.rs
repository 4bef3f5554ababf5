//! Resampling a stream that arrives in pieces of any size (rubato's
//! synchronous FFT resampler, fed in its own fixed chunks).

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::AudioError;

pub struct StreamResampler {
    from: u32,
    to: u32,
    inner: Option<Fft<f32>>,
    pending: Vec<f32>,
}

impl StreamResampler {
    pub fn new(from: u32, to: u32) -> Result<Self, AudioError> {
        let inner = if from == to {
            None
        } else {
            // 10 ms chunks at 48 kHz: low delay for the wake word and VAD.
            Some(
                Fft::<f32>::new(from as usize, to as usize, 480, 1, FixedSync::Input).map_err(|e| {
                    AudioError::Resample {
                        from,
                        to,
                        reason: e.to_string(),
                    }
                })?,
            )
        };
        Ok(Self {
            from,
            to,
            inner,
            pending: Vec::new(),
        })
    }

    /// Takes any number of input samples; returns what could be converted so far.
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<f32>, AudioError> {
        let Some(inner) = self.inner.as_mut() else {
            return Ok(samples.to_vec());
        };
        self.pending.extend_from_slice(samples);
        let mut out = Vec::new();
        let mut used = 0;
        loop {
            let need = inner.input_frames_next();
            if self.pending.len() - used < need {
                break;
            }
            let chunk = &self.pending[used..used + need];
            let fail = |reason: String| AudioError::Resample {
                from: self.from,
                to: self.to,
                reason,
            };
            let input = InterleavedSlice::new(chunk, 1, need).map_err(|e| fail(e.to_string()))?;
            let converted = inner.process(&input, None).map_err(|e| fail(e.to_string()))?;
            out.extend_from_slice(&converted.take_data());
            used += need;
        }
        self.pending.drain(..used);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_of_any_size_come_out_at_a_third_of_the_rate() {
        let mut r = StreamResampler::new(48_000, 16_000).expect("resampler");
        let tone: Vec<f32> = (0..48_000)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 48_000.0).sin() * 0.5)
            .collect();
        let mut out = Vec::new();
        for piece in tone.chunks(333) {
            out.extend(r.push(piece).expect("push"));
        }
        // All but the last partial chunk is through.
        assert!((15_800..=16_000).contains(&out.len()), "{}", out.len());
        // Half a second from the middle, clear of the resampler's start-up delay:
        // a 440 Hz tone crosses zero upwards 220 times.
        let middle = &out[4_000..12_000];
        let crossings = middle.windows(2).filter(|w| w[0] <= 0.0 && w[1] > 0.0).count();
        assert!((218..=222).contains(&crossings), "crossings {crossings}");
    }
}
