//! Stage 2: ranking. The [`Ranker`] orders candidates, best first, by `rank_score`.
//!
//! [`SimilarityRanker`]: the identity over the store's order (cosine similarity), what
//! `ranking: visual` gets. The learned ranker (`crate::learn::LearnedRanker`: similarity plus
//! a boost from the search and event logs) implements [`Ranker`], asks for more candidates
//! through [`Ranker::over_fetch`], decides the default ranking through [`Ranker::ranking`],
//! and is handed to `Pipeline::new` by `serve`.

use shoplook_core::wire::{Ranking, SearchRequest};

use super::Candidate;

pub trait Ranker: Send + Sync {
    /// Candidates to retrieve per requested result, so the ranker has room to reorder.
    fn over_fetch(&self) -> usize {
        1
    }
    /// The ranking a request gets: its own `ranking`, or this ranker's default. Under
    /// `visual` the pipeline orders by similarity and does not call [`Ranker::rank`].
    fn ranking(&self, req: &SearchRequest) -> Ranking {
        let _ = req;
        Ranking::Visual
    }
    /// The candidates, best first, with `rank_score` (and `boost`) set.
    fn rank(&self, req: &SearchRequest, candidates: Vec<Candidate>) -> Vec<Candidate>;
}

/// By cosine similarity, best first; equal similarities keep the store's order.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimilarityRanker;

impl Ranker for SimilarityRanker {
    fn rank(&self, _req: &SearchRequest, mut candidates: Vec<Candidate>) -> Vec<Candidate> {
        for c in &mut candidates {
            c.rank_score = c.similarity;
            c.boost = 0.0;
        }
        // Stable: the stores already answer best first, so this is the identity for them.
        candidates.sort_by(|a, b| b.rank_score.total_cmp(&a.rank_score));
        candidates
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::tests::{product, request};

    fn ids(c: &[Candidate]) -> Vec<&str> {
        c.iter().map(|c| c.product.id.as_str()).collect()
    }

    #[test]
    fn keeps_the_order_by_similarity() {
        let input = vec![
            Candidate::new(product("a"), 0.9),
            Candidate::new(product("b"), 0.7),
            Candidate::new(product("c"), 0.7),
            Candidate::new(product("d"), -0.2),
        ];
        let out = SimilarityRanker.rank(&request(4), input.clone());
        assert_eq!(out, input, "already best first: unchanged");
    }

    #[test]
    fn orders_by_similarity_and_sets_the_rank_score() {
        let mut stale = Candidate::new(product("a"), 0.1);
        stale.rank_score = 5.0;
        let input = vec![
            stale,
            Candidate::new(product("b"), 0.8),
            Candidate::new(product("c"), 0.4),
        ];
        let out = SimilarityRanker.rank(&request(3), input);
        assert_eq!(ids(&out), ["b", "c", "a"]);
        assert!(out.iter().all(|c| c.rank_score == c.similarity));
        assert_eq!(SimilarityRanker.over_fetch(), 1);
    }
}
