//! Tones HausKI plays itself: the alarm chime before a timer's or a
//! reminder's words, so a ringing alarm is heard as one even from the next
//! room and before the first word.

use std::f32::consts::TAU;

/// Two falling notes (E6, C6), each with a soft attack and a ringing decay,
/// then a short rest: about 0.55 s at any `rate`.
pub fn chime(rate: u32) -> Vec<f32> {
    let rate_f = rate as f32;
    let note = |hz: f32, seconds: f32| -> Vec<f32> {
        let len = (seconds * rate_f) as usize;
        let attack = (0.01 * rate_f) as usize;
        (0..len)
            .map(|i| {
                let t = i as f32 / rate_f;
                let envelope = if i < attack {
                    i as f32 / attack as f32
                } else {
                    (-(t - 0.01) * 9.0).exp()
                };
                0.45 * envelope * (TAU * hz * t).sin()
            })
            .collect()
    };
    let rest = vec![0.0; (0.12 * rate_f) as usize];
    [note(1318.5, 0.2), note(1046.5, 0.23), rest].concat()
}

#[cfg(test)]
mod tests {
    use super::chime;

    #[test]
    fn the_chime_is_audible_unclipped_and_ends_quietly() {
        let rate = 22_050;
        let samples = chime(rate);
        assert!((0.5..0.6).contains(&(samples.len() as f32 / rate as f32)));
        let peak = samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!((0.3..=0.5).contains(&peak), "peak {peak}");
        assert!(samples[samples.len() - 10..].iter().all(|s| *s == 0.0));
    }
}
