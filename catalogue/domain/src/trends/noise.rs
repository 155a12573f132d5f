//! Optional differential-privacy noise: Laplace noise of scale `1 / epsilon` added to every
//! published count, rounded, never below zero.
//!
//! What it means: for one cell, adding or removing one event changes the distribution of the
//! published figure by a factor of at most `e^epsilon` (epsilon-DP per cell and per event).
//! It is not a guarantee per session over a whole report: a session that adds `c` events to a
//! cell, or shows up in `m` cells, is protected by `c * m * epsilon` only. The noise of a cell
//! is fixed for the life of the process (drawn from a keyed hash of the cell), so asking again
//! does not average it away; a restart draws new noise. Suppression decisions are made on the
//! exact counts before the noise (see `docs/console.md`).

use std::sync::OnceLock;

/// The secret key of this process's noise.
fn salt() -> &'static str {
    static SALT: OnceLock<String> = OnceLock::new();
    SALT.get_or_init(|| crate::random_hex(32))
}

/// A uniform number in `(-0.5, 0.5)` from the keyed hash of `cell`.
fn uniform(cell: &str) -> f64 {
    let h = crate::sha256_hex(format!("{}|{cell}", salt()).as_bytes());
    let bits = u64::from_str_radix(&h[..16], 16).unwrap_or(0) >> 11;
    // 53 bits -> [0, 1), then shifted away from the ends.
    (bits as f64 + 0.5) / (1u64 << 53) as f64 - 0.5
}

/// Laplace(0, b) from a uniform `u` in (-0.5, 0.5).
pub fn laplace(u: f64, b: f64) -> f64 {
    -b * u.signum() * (1.0 - 2.0 * u.abs()).ln()
}

/// `count` plus Laplace noise of scale `1 / epsilon`, rounded, at least 0.
pub fn noisy(count: u64, epsilon: f64, cell: &str) -> u64 {
    let v = count as f64 + laplace(uniform(cell), 1.0 / epsilon);
    v.round().max(0.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_fixed_per_cell_and_has_the_laplace_spread() {
        assert_eq!(noisy(100, 0.5, "a"), noisy(100, 0.5, "a"));
        // Mean absolute deviation of Laplace(0, b) is b.
        let b = 2.0;
        let n = 20_000;
        let mad: f64 = (0..n)
            .map(|i| laplace(uniform(&format!("cell{i}")), b).abs())
            .sum::<f64>()
            / n as f64;
        assert!((mad - b).abs() < 0.1, "mean |noise| {mad}");
        let mean: f64 = (0..n)
            .map(|i| laplace(uniform(&format!("cell{i}")), b))
            .sum::<f64>()
            / n as f64;
        assert!(mean.abs() < 0.1, "mean noise {mean}");
    }
}
