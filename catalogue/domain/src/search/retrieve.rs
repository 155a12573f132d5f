//! Stage 1: candidates from the store's ANN index (both stores: usearch HNSW re-ranked with
//! exact cosines, or pgvector HNSW), filters applied inside the index traversal.
//!
//! The retriever asks for `k x over_fetch` candidates so that a ranker which reorders (a
//! learned ranker) has something to choose from; today's similarity ranker asks for no more
//! than `k`, so a search costs what it cost before the pipeline.

use shoplook_core::wire::{Product, SearchRequest};

use super::Candidate;
use crate::error::CatResult;
use crate::store::Store;

/// The most candidates one search may fetch, whatever the over-fetch factor.
pub const MAX_CANDIDATES: usize = 1000;

/// Where candidates come from: nearest products by cosine similarity, best first.
pub trait Candidates {
    fn nearest(&self, req: &SearchRequest, n: usize) -> CatResult<Vec<(Product, f32)>>;
}

/// Every store is a source of candidates.
impl<S: Store + ?Sized> Candidates for S {
    fn nearest(&self, req: &SearchRequest, n: usize) -> CatResult<Vec<(Product, f32)>> {
        self.search(&req.embedding, n, req.category.as_deref(), &req.filters)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Retriever {
    over_fetch: usize,
}

impl Retriever {
    /// `over_fetch`: candidates per requested result (1 = exactly `k`).
    pub fn new(over_fetch: usize) -> Self {
        Retriever {
            over_fetch: over_fetch.max(1),
        }
    }

    /// How many candidates a request for `k` results fetches.
    pub fn candidates_for(&self, k: usize) -> usize {
        k.saturating_mul(self.over_fetch).min(MAX_CANDIDATES).max(k)
    }

    pub fn retrieve(
        &self,
        store: &(impl Candidates + ?Sized),
        req: &SearchRequest,
    ) -> CatResult<Vec<Candidate>> {
        // No stored text holds a NUL (feeds and the API refuse it; PostgreSQL text cannot hold
        // it), so a filter with one matches nothing, on either store, without asking.
        let nul = |s: &Option<String>| s.as_deref().is_some_and(|s| s.contains('\0'));
        if nul(&req.category) || nul(&req.filters.brand) {
            return Ok(Vec::new());
        }
        Ok(store
            .nearest(req, self.candidates_for(req.k))?
            .into_iter()
            .map(|(p, s)| Candidate::new(p, s))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::tests::{Fixed, request};

    fn store() -> Fixed {
        Fixed(
            vec![("a", 0.1), ("b", 0.8), ("c", 0.6), ("d", 0.4), ("e", 0.3)],
            Default::default(),
        )
    }

    #[test]
    fn exactly_k_without_over_fetch() {
        let s = store();
        let got = Retriever::new(1).retrieve(&s, &request(2)).unwrap();
        assert_eq!(s.1.get(), 2);
        let ids: Vec<_> = got.iter().map(|c| c.product.id.as_str()).collect();
        assert_eq!(ids, ["b", "c"]);
        assert_eq!(got[0].similarity, 0.8);
        assert_eq!(got[0].rank_score, 0.8);
    }

    #[test]
    fn over_fetches_for_later_stages() {
        let s = store();
        let got = Retriever::new(2).retrieve(&s, &request(2)).unwrap();
        assert_eq!(s.1.get(), 4, "asked the store for k x 2");
        assert_eq!(got.len(), 4);
        // A store with fewer products than asked for gives what it has.
        let got = Retriever::new(10).retrieve(&s, &request(2)).unwrap();
        assert_eq!((s.1.get(), got.len()), (20, 5));
    }

    #[test]
    fn candidate_count_is_bounded_and_never_below_k() {
        let r = Retriever::new(50);
        assert_eq!(r.candidates_for(100), MAX_CANDIDATES);
        assert_eq!(Retriever::new(0).candidates_for(7), 7);
        assert_eq!(Retriever::new(usize::MAX).candidates_for(3), MAX_CANDIDATES);
    }
}
