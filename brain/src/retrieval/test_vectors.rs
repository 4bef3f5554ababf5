//! Reproducible unit vectors for the stores' tests.

/// A reproducible point on the unit sphere.
pub(super) fn random_unit(seed: &mut u64, dims: usize) -> Vec<f32> {
    let v: Vec<f32> = (0..dims)
        .map(|_| {
            *seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((*seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / norm).collect()
}
