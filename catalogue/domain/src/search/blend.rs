//! Stage 3: blending. The [`Blender`] turns the ranked organic candidates into the `k`
//! results shown.
//!
//! [`NoSponsored`]: organic results only, cut to `k`. `ads::AdsBlender`: the ad auction
//! (campaigns whose product is relevant to the query, second price on bid x predicted click
//! rate) fills the configured slots, drops organic duplicates of the winners and still answers
//! at most `k` results.

use shoplook_core::wire::SearchRequest;

use super::Candidate;

pub trait Blender: Send + Sync {
    /// At most `k` results, in the order shown.
    fn blend(&self, req: &SearchRequest, organic: Vec<Candidate>, k: usize) -> Vec<Candidate>;
}

/// Organic results only, in rank order, at most `k`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSponsored;

impl Blender for NoSponsored {
    fn blend(&self, _req: &SearchRequest, mut organic: Vec<Candidate>, k: usize) -> Vec<Candidate> {
        organic.truncate(k);
        organic
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::tests::{product, request};

    fn ranked(n: usize) -> Vec<Candidate> {
        (0..n)
            .map(|i| Candidate::new(product(&format!("p{i}")), 1.0 - i as f32 / 10.0))
            .collect()
    }

    #[test]
    fn keeps_organic_results_in_order_and_truncates_to_k() {
        let out = NoSponsored.blend(&request(3), ranked(6), 3);
        assert_eq!(out, ranked(3));
    }

    #[test]
    fn fewer_candidates_than_k_are_all_kept() {
        assert_eq!(NoSponsored.blend(&request(5), ranked(2), 5), ranked(2));
        assert!(NoSponsored.blend(&request(5), Vec::new(), 5).is_empty());
    }
}
