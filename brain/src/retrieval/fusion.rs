//! Reciprocal rank fusion: merges ranked lists by rank alone, so BM25 scores
//! and cosine distances never need to be put on one scale.

use std::collections::HashMap;

/// The usual constant: damps the weight of the very top ranks.
const K: f32 = 60.0;

/// Fuses ranked id lists; returns (id, score) best first.
pub fn reciprocal_rank_fusion<'a>(lists: &[Vec<&'a str>]) -> Vec<(&'a str, f32)> {
    let mut scores: HashMap<&str, f32> = HashMap::new();
    for list in lists {
        for (rank, id) in list.iter().enumerate() {
            *scores.entry(id).or_default() += 1.0 / (K + rank as f32 + 1.0);
        }
    }
    let mut fused: Vec<(&str, f32)> = scores.into_iter().collect();
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    fused
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_beats_a_single_first_place() {
        let fused = reciprocal_rank_fusion(&[vec!["a", "b", "c"], vec!["b", "c", "a"]]);
        assert_eq!(fused[0].0, "b");
        assert_eq!(fused.len(), 3);
    }
}
