//! Percentiles by nearest rank: the budget guard's rolling p95, the benches'
//! figures and the tests' figures all read them the same way.

/// The value at `fraction` (0–1) of `sorted` by nearest rank; 0 when empty.
pub fn nearest_rank(sorted: &[f64], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_takes_the_value_at_or_above_the_fraction() {
        let sorted: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(nearest_rank(&sorted, 0.95), 19.0);
        assert_eq!(nearest_rank(&sorted, 0.5), 10.0);
        assert_eq!(nearest_rank(&sorted, 0.0), 1.0);
        assert_eq!(nearest_rank(&sorted, 1.0), 20.0);
        assert_eq!(nearest_rank(&[], 0.95), 0.0);
    }
}
