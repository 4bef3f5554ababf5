//! Nearest neighbours for the stores a home box holds, by scanning rather
//! than walking a graph, in three passes that each read less per row than
//! the one before reads in all: the sign bits of every live embedding
//! (48 bytes a row; Hamming distance), the int8 codes of the best
//! [`SHORTLIST_PER_RESCORED`]·window of those (384 bytes a row), and the f32
//! embeddings of the best window of those (1.5 kB a row). A full int8 scan of
//! 100 000 rows read 38 MB and took 7–8 ms here, bound by memory bandwidth
//! (about 7 GB/s on this VM); the sign bits are 4.8 MB. Recall is measured
//! against exact search (`hauski-bench brain`), not assumed.
//!
//! Rows are numbered like the graph's points (a document keeps its row until
//! the store compacts), and a dead row is zeroed and skipped.

/// Sign bits, int8 codes and scales of unit vectors, one row per point.
pub(super) struct QuantizedRows {
    dimensions: usize,
    /// u64 words of sign bits a row.
    words: usize,
    bits: Vec<u64>,
    codes: Vec<i8>,
    /// Per row: the f32 value of one code step; 0 for a dead row.
    scales: Vec<f32>,
}

/// Rows re-scored in f32 per hit asked for (at least [`MIN_RESCORED`]).
const RESCORED_PER_HIT: usize = 4;
const MIN_RESCORED: usize = 64;
/// Rows scored in int8 per row re-scored in f32 (at least [`MIN_SHORTLIST`]).
const SHORTLIST_PER_RESCORED: usize = 8;
const MIN_SHORTLIST: usize = 2048;

impl QuantizedRows {
    pub fn new(dimensions: usize) -> Self {
        Self {
            dimensions,
            words: dimensions.div_ceil(64),
            bits: Vec::new(),
            codes: Vec::new(),
            scales: Vec::new(),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.scales.len()
    }

    /// Appends `embedding` as the next row.
    pub fn push(&mut self, embedding: &[f32]) {
        let (codes, scale) = quantize(embedding);
        debug_assert_eq!(codes.len(), self.dimensions);
        self.bits.extend(sign_bits(embedding, self.words));
        self.codes.extend(codes);
        self.scales.push(scale);
    }

    /// Appends a row that is dead from the start (a graph point whose
    /// document is gone).
    pub fn push_dead(&mut self) {
        self.bits.extend(std::iter::repeat_n(0, self.words));
        self.codes.extend(std::iter::repeat_n(0, self.dimensions));
        self.scales.push(0.0);
    }

    /// Marks row `row` dead: a zero scale keeps it out of every pass.
    pub fn kill(&mut self, row: usize) {
        if let Some(scale) = self.scales.get_mut(row) {
            *scale = 0.0;
        }
    }

    pub fn clear(&mut self) {
        self.bits.clear();
        self.codes.clear();
        self.scales.clear();
    }

    /// Bytes held, for the store's memory figures.
    pub fn bytes(&self) -> usize {
        self.bits.capacity() * 8 + self.codes.capacity() + self.scales.capacity() * 4
    }

    /// The rows most like `query` that `keep` accepts, best first, at most
    /// `n`: a shortlist by sign bits, scored in int8, and the best
    /// [`RESCORED_PER_HIT`]·`n` of it re-scored by `exact` (the f32 cosine of
    /// a row, `None` for a row to skip).
    pub fn nearest(
        &self,
        query: &[f32],
        n: usize,
        keep: impl Fn(usize) -> bool,
        exact: impl Fn(usize) -> Option<f32>,
    ) -> Vec<usize> {
        if n == 0 || query.len() != self.dimensions || self.scales.is_empty() {
            return Vec::new();
        }
        let window = (n * RESCORED_PER_HIT).max(MIN_RESCORED);
        let shortlist_len = (window * SHORTLIST_PER_RESCORED).max(MIN_SHORTLIST);

        // Pass 1: Hamming distance of the sign bits, every live row; the
        // closest rows `keep` accepts (asked only until the shortlist is full).
        let query_bits = sign_bits(query, self.words);
        let mut distances = Vec::with_capacity(self.scales.len());
        hamming_into(&self.bits, &query_bits, self.words, &mut distances);
        let shortlist = closest_kept(&distances, &self.scales, shortlist_len, keep);

        // Pass 2: int8 dot products of the shortlist.
        let (query_codes, _) = quantize(query);
        let mut dots = Vec::with_capacity(shortlist.len());
        scores_into(&self.codes, &query_codes, self.dimensions, &shortlist, &mut dots);
        let mut by_codes: Vec<(f32, usize)> = dots
            .iter()
            .zip(&shortlist)
            .map(|(&dot, &row)| (dot as f32 * self.scales[row], row))
            .collect();

        // Pass 3: the f32 cosine of the best window.
        let mut rescored = best_kept(&mut by_codes, window, exact);
        rescored.sort_by(|a, b| b.0.total_cmp(&a.0));
        rescored.into_iter().take(n).map(|(_, row)| row).collect()
    }
}

/// About `wanted` live rows that `keep` accepts, the closest by `distances`
/// (in no order): Hamming distances are small integers, so a histogram gives
/// the distance that takes in `wanted` rows, and one pass collects them
/// (another, further out, while `keep` turns rows away). All rows at the
/// last distance taken are kept, up to twice `wanted`.
fn closest_kept(
    distances: &[u32],
    scales: &[f32],
    wanted: usize,
    keep: impl Fn(usize) -> bool,
) -> Vec<usize> {
    let live = || {
        distances
            .iter()
            .zip(scales)
            .enumerate()
            .filter(|(_, (_, scale))| **scale > 0.0)
            .map(|(row, (&distance, _))| (row, distance as usize))
    };
    let mut histogram = vec![0usize; distances.iter().max().map_or(0, |&d| d as usize) + 1];
    for (_, distance) in live() {
        histogram[distance] += 1;
    }
    let mut kept = Vec::with_capacity(wanted * 2);
    let (mut below, mut upto, mut taken_in) = (0, 0, 0);
    while kept.len() < wanted && below < histogram.len() {
        // Widen until the new band holds what is still missing.
        while upto < histogram.len() && taken_in < wanted - kept.len() {
            taken_in += histogram[upto];
            upto += 1;
        }
        kept.extend(
            live()
                .filter(|&(row, distance)| distance >= below && distance < upto && keep(row))
                .map(|(row, _)| row)
                .take(wanted * 2 - kept.len()),
        );
        (below, taken_in) = (upto, 0);
    }
    kept
}

/// Up to `wanted` entries of `ranked` (higher first) for which `accept` gives
/// a value, best first, paired with that value. Sorts only as far as needed:
/// `wanted` entries first, then twice as far while `accept` turns rows away.
fn best_kept<T>(
    ranked: &mut [(f32, usize)],
    wanted: usize,
    accept: impl Fn(usize) -> Option<T>,
) -> Vec<(T, usize)> {
    let mut kept = Vec::with_capacity(wanted.min(ranked.len()));
    let (mut start, mut end) = (0, wanted.min(ranked.len()));
    while start < end && kept.len() < wanted {
        best_first(&mut ranked[start..], end - start);
        for &(_, row) in &ranked[start..end] {
            if kept.len() == wanted {
                break;
            }
            if let Some(value) = accept(row) {
                kept.push((value, row));
            }
        }
        (start, end) = (end, (end * 2).min(ranked.len()));
    }
    kept
}

/// Puts the `k` highest-scored entries of `ranked` first, in order.
fn best_first(ranked: &mut [(f32, usize)], k: usize) {
    let order = |a: &(f32, usize), b: &(f32, usize)| b.0.total_cmp(&a.0);
    if k < ranked.len() {
        ranked.select_nth_unstable_by(k, order);
    }
    let k = k.min(ranked.len());
    ranked[..k].sort_unstable_by(order);
}

/// One bit a dimension: set where the value is positive.
fn sign_bits(v: &[f32], words: usize) -> Vec<u64> {
    let mut bits = vec![0u64; words];
    for (i, x) in v.iter().enumerate() {
        if *x > 0.0 {
            bits[i / 64] |= 1 << (i % 64);
        }
    }
    bits
}

/// The Hamming distance of `query` to every row of `bits`.
fn hamming_into(bits: &[u64], query: &[u64], words: usize, out: &mut Vec<u32>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU has just been checked for POPCNT.
        unsafe { hamming_popcnt(bits, query, words, out) };
        return;
    }
    hamming_portable(bits, query, words, out);
}

/// The portable loop compiled with POPCNT, which the default x86-64 target
/// lacks (its software count is several instructions a word).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn hamming_popcnt(bits: &[u64], query: &[u64], words: usize, out: &mut Vec<u32>) {
    hamming_portable(bits, query, words, out);
}

#[inline(always)]
fn hamming_portable(bits: &[u64], query: &[u64], words: usize, out: &mut Vec<u32>) {
    out.extend(bits.chunks_exact(words).map(|row| {
        row.iter()
            .zip(query)
            .fold(0u32, |sum, (a, b)| sum.wrapping_add((a ^ b).count_ones()))
    }));
}

/// Symmetric int8 codes of `v` and the value of one step.
fn quantize(v: &[f32]) -> (Vec<i8>, f32) {
    let largest = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if largest == 0.0 || !largest.is_finite() {
        return (vec![0; v.len()], 0.0);
    }
    let step = largest / 127.0;
    let codes = v
        .iter()
        .map(|x| (x / step).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (codes, step)
}

/// The integer dot product of `query` with each of `rows` of `codes`.
fn scores_into(codes: &[i8], query: &[i8], dimensions: usize, rows: &[usize], out: &mut Vec<i32>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has just been checked for AVX2.
        unsafe { scores_avx2(codes, query, dimensions, rows, out) };
        return;
    }
    scores_portable(codes, query, dimensions, rows, out);
}

/// The int8 pass with AVX2 (every x86-64 CPU since 2013): 32 codes a step,
/// as `|a| · sign(b, a)` multiplied into 16-bit pairs (`vpmaddubsw`; 2 · 127²
/// fits) and summed into 32-bit lanes. Over 100 000 whole rows it took 7.4 ms
/// where the portable loop took 11.7 (it widens every byte first).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn scores_avx2(codes: &[i8], query: &[i8], dimensions: usize, rows: &[usize], out: &mut Vec<i32>) {
    use std::arch::x86_64::{
        __m256i, _mm_add_epi32, _mm_cvtsi128_si32, _mm_hadd_epi32, _mm256_abs_epi8, _mm256_add_epi32,
        _mm256_castsi256_si128, _mm256_extracti128_si256, _mm256_loadu_si256, _mm256_madd_epi16,
        _mm256_maddubs_epi16, _mm256_set1_epi16, _mm256_setzero_si256, _mm256_sign_epi8,
    };
    let whole = dimensions / 32 * 32;
    let ones = _mm256_set1_epi16(1);
    for &row in rows {
        let row = &codes[row * dimensions..(row + 1) * dimensions];
        let mut sum = _mm256_setzero_si256();
        for (a, b) in row[..whole].chunks_exact(32).zip(query[..whole].chunks_exact(32)) {
            // SAFETY: each chunk is exactly 32 bytes; unaligned loads.
            let (a, b) = unsafe {
                (
                    _mm256_loadu_si256(a.as_ptr().cast::<__m256i>()),
                    _mm256_loadu_si256(b.as_ptr().cast::<__m256i>()),
                )
            };
            let pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(a), _mm256_sign_epi8(b, a));
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(pairs, ones));
        }
        let half = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256::<1>(sum));
        let quarter = _mm_hadd_epi32(half, half);
        let total = _mm_cvtsi128_si32(_mm_hadd_epi32(quarter, quarter));
        out.push(total.wrapping_add(dot(&row[whole..], &query[whole..])));
    }
}

fn scores_portable(codes: &[i8], query: &[i8], dimensions: usize, rows: &[usize], out: &mut Vec<i32>) {
    out.extend(
        rows.iter()
            .map(|&row| dot(&codes[row * dimensions..(row + 1) * dimensions], query)),
    );
}

/// The integer dot product of two code slices. Wrapping arithmetic, though
/// nothing can wrap (127² · 384 < 2³¹): the dev profile's overflow checks
/// would otherwise keep the loop scalar.
#[inline(always)]
fn dot(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).fold(0i32, |sum, (&x, &y)| {
        sum.wrapping_add(i32::from(x).wrapping_mul(i32::from(y)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retrieval::test_vectors::random_unit as unit;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn finds_the_exact_top_n_and_skips_dead_and_filtered_rows() {
        let mut seed = 7;
        let vectors: Vec<Vec<f32>> = (0..3000).map(|_| unit(&mut seed, 64)).collect();
        let mut rows = QuantizedRows::new(64);
        for v in &vectors {
            rows.push(v);
        }
        rows.kill(5);
        let exact = |q: &[f32], skip: &dyn Fn(usize) -> bool| -> Vec<usize> {
            let mut all: Vec<(f32, usize)> = vectors
                .iter()
                .enumerate()
                .filter(|(i, _)| !skip(*i))
                .map(|(i, v)| (cosine(q, v), i))
                .collect();
            all.sort_by(|a, b| b.0.total_cmp(&a.0));
            all.into_iter().take(10).map(|(_, i)| i).collect()
        };
        for _ in 0..20 {
            // A query near row 5 (dead) and row 9, so both are top candidates.
            let q: Vec<f32> = vectors[5].iter().zip(&vectors[9]).map(|(a, b)| a + b).collect();
            let q: Vec<f32> = {
                let noise = unit(&mut seed, 64);
                let v: Vec<f32> = q.iter().zip(&noise).map(|(a, b)| a + 0.3 * b).collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter().map(|x| x / norm).collect()
            };
            let found = rows.nearest(&q, 10, |_| true, |row| Some(cosine(&q, &vectors[row])));
            assert_eq!(
                found,
                exact(&q, &|i| i == 5),
                "dead row 5 skipped, the rest exact"
            );
            assert_eq!(found[0], 9);
            let odd = rows.nearest(&q, 10, |row| row % 2 == 1, |row| Some(cosine(&q, &vectors[row])));
            assert_eq!(odd, exact(&q, &|i| i == 5 || i % 2 == 0), "filtered");
        }
    }

    #[test]
    fn the_vectorised_scan_matches_the_portable_one() {
        let mut seed = 3;
        let mut rows = QuantizedRows::new(384);
        for _ in 0..50 {
            rows.push(&unit(&mut seed, 384));
        }
        let (query, _) = quantize(&unit(&mut seed, 384));
        let (mut fast, mut plain) = (Vec::new(), Vec::new());
        let all: Vec<usize> = (0..50).rev().collect();
        scores_into(&rows.codes, &query, 384, &all, &mut fast);
        scores_portable(&rows.codes, &query, 384, &all, &mut plain);
        assert_eq!(fast, plain);
        let (mut fast, mut plain) = (Vec::new(), Vec::new());
        hamming_into(&rows.bits, &rows.bits[..6], 6, &mut fast);
        hamming_portable(&rows.bits, &rows.bits[..6], 6, &mut plain);
        assert_eq!((fast[0], &fast), (0, &plain));
    }

    #[test]
    fn empty_zero_and_mismatched_inputs_find_nothing_and_do_not_panic() {
        let mut rows = QuantizedRows::new(4);
        assert!(
            rows.nearest(&[1.0, 0.0, 0.0, 0.0], 3, |_| true, |_| Some(1.0))
                .is_empty()
        );
        rows.push(&[0.0; 4]);
        rows.push(&[f32::NAN, 0.0, 0.0, 0.0]);
        assert!(
            rows.nearest(&[1.0, 0.0, 0.0, 0.0], 3, |_| true, |_| Some(1.0))
                .is_empty()
        );
        assert!(rows.nearest(&[1.0, 0.0], 3, |_| true, |_| Some(1.0)).is_empty());
        rows.kill(99);
        assert_eq!(rows.len(), 2);
    }
}
