//! Search as a pipeline, shared by both stores and by every caller (the HTTP handler today):
//!
//! ```text
//! SearchRequest ─validate─▶ retrieve (ANN candidates from the store, over-fetched for the ranker)
//!               ─▶ rank (Ranker: by similarity under `visual`; `learn::LearnedRanker` under `learned`)
//!               ─▶ blend (Blender: organic only, or `ads::AdsBlender`: the ad auction's
//!                  winners in their slots)
//!               ─▶ SearchResponse
//! ```
//!
//! Each stage is a small module with its own tests. A new ranking or ad policy is a new
//! [`Ranker`] or [`Blender`] handed to [`Pipeline::new`]; handlers and SQL do not change.

pub mod blend;
pub mod rank;
pub mod retrieve;

use std::sync::Arc;

use shoplook_core::ModelContract;
use shoplook_core::wire::{MAX_K, Product, Ranking, SearchHit, SearchRequest, SearchResponse};

pub use blend::{Blender, NoSponsored};
pub use rank::{Ranker, SimilarityRanker};
pub use retrieve::{Candidates, Retriever};

use crate::ads::{Ads, AdsBlender};
use crate::error::{CatError, CatResult, ContractMismatch};
use crate::store::campaigns::AdServe;
use crate::store::searches::check_session_id;
use crate::store::{SearchRecord, Store, check_vector};

/// A product that may be shown, as it moves through the stages.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub product: Product,
    /// Cosine similarity to the query (what the response reports as `score`).
    pub similarity: f32,
    /// The ranker's score (best first): `similarity + boost`.
    pub rank_score: f32,
    /// What a learned ranker added to the similarity (0 under [`SimilarityRanker`]).
    pub boost: f32,
    /// Set by an ad blender on the ad slots' winners.
    pub sponsored: Option<Sponsored>,
}

/// What makes a candidate an ad: its campaign and the price of a click on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sponsored {
    pub campaign_id: String,
    pub price_cents: i64,
}

impl Candidate {
    pub fn new(product: Product, similarity: f32) -> Self {
        Candidate {
            product,
            similarity,
            rank_score: similarity,
            boost: 0.0,
            sponsored: None,
        }
    }
}

/// Retrieve -> rank -> blend.
pub struct Pipeline {
    retriever: Retriever,
    ranker: Box<dyn Ranker>,
    blender: Box<dyn Blender>,
    /// The ad system, when the blender is its auction (clicks are charged through it).
    ads: Option<Arc<Ads>>,
}

impl Default for Pipeline {
    /// Today's search: nearest products by similarity, organic results only.
    fn default() -> Self {
        Pipeline::new(Box::new(SimilarityRanker), Box::new(NoSponsored))
    }
}

impl Pipeline {
    /// A pipeline whose retrieval over-fetches as much as the ranker asks for.
    pub fn new(ranker: Box<dyn Ranker>, blender: Box<dyn Blender>) -> Self {
        Pipeline {
            retriever: Retriever::new(ranker.over_fetch()),
            ranker,
            blender,
            ads: None,
        }
    }

    /// A pipeline whose blender is the ad auction of `ads` (sponsored products).
    pub fn with_ads(ranker: Box<dyn Ranker>, ads: Arc<Ads>) -> Self {
        Pipeline {
            ads: Some(ads.clone()),
            ..Pipeline::new(ranker, Box::new(AdsBlender(ads)))
        }
    }

    /// The ad system, if this pipeline serves ads.
    pub fn ads(&self) -> Option<&Arc<Ads>> {
        self.ads.as_ref()
    }

    /// Runs a validated request (see [`validate`]) against `store`. Blocking (store calls).
    pub fn run(
        &self,
        store: &(impl Candidates + ?Sized),
        contract: &ModelContract,
        req: &SearchRequest,
    ) -> CatResult<SearchResponse> {
        Ok(self.answer(store, contract, req)?.0)
    }

    /// The response, and the ads it holds with their positions (1-based) and prices.
    fn answer(
        &self,
        store: &(impl Candidates + ?Sized),
        contract: &ModelContract,
        req: &SearchRequest,
    ) -> CatResult<(SearchResponse, Vec<(u32, Sponsored)>)> {
        let candidates = self.retriever.retrieve(store, req)?;
        // `visual` is similarity order whatever the ranker; the ranker decides the default.
        let ranking = self.ranker.ranking(req);
        let ranked = match ranking {
            Ranking::Visual => SimilarityRanker.rank(req, candidates),
            Ranking::Learned => self.ranker.rank(req, candidates),
        };
        let shown = self.blender.blend(req, ranked, req.k);
        let mut ads = Vec::new();
        let results = shown
            .into_iter()
            .enumerate()
            .map(|(i, c)| match c.sponsored {
                Some(s) => {
                    let hit = SearchHit::sponsored(c.product, c.similarity, s.campaign_id.clone());
                    ads.push((i as u32 + 1, s));
                    hit
                }
                None => SearchHit::explained(c.product, c.similarity, c.boost),
            })
            .collect();
        let resp = SearchResponse {
            results,
            query_id: crate::random_hex(8),
            model: contract.to_string(),
            ranking,
        };
        Ok((resp, ads))
    }

    /// [`Pipeline::run`], then logs the search (query id, key, session, category, embedding,
    /// the list shown) for learning (`crate::learn`), and the ads it served (what their clicks
    /// are charged against). What the HTTP API calls.
    pub fn run_and_log(
        &self,
        store: &dyn Store,
        contract: &ModelContract,
        req: &SearchRequest,
        key_name: &str,
    ) -> CatResult<SearchResponse> {
        let (resp, ads) = self.answer(store, contract, req)?;
        store.record_search(&SearchRecord {
            query_id: resp.query_id.clone(),
            key_name: key_name.to_string(),
            session_id: req.session_id.clone(),
            category: req.category.clone(),
            ranking: resp.ranking,
            embedding: req.embedding.clone(),
            shown: resp.results.iter().map(|h| h.id.clone()).collect(),
        })?;
        let at = crate::now_s();
        let serves: Vec<AdServe> = ads
            .into_iter()
            .map(|(position, s)| AdServe {
                query_id: resp.query_id.clone(),
                product_id: resp.results[position as usize - 1].id.clone(),
                campaign_id: s.campaign_id,
                position,
                price_cents: s.price_cents,
                key_name: key_name.to_string(),
                session_id: req.session_id.clone(),
                at,
            })
            .collect();
        store.record_ad_serves(&serves)?;
        Ok(resp)
    }
}

/// Checks a query vector against the catalogue's contract (422 for another model or
/// dimension, 400 for NaN/inf or non-unit vectors).
pub fn check_query(contract: &ModelContract, model: &str, vector: &[f32]) -> CatResult<()> {
    if model != contract.to_string() {
        return Err(CatError::Contract(ContractMismatch::Model {
            held: Box::new(contract.clone()),
            model: model.to_string(),
        }));
    }
    check_vector(vector, contract)
}

/// Validates a search request before any stage runs.
/// Longest `category` or brand filter (the longest a product's can be).
pub const MAX_FILTER_CHARS: usize = 200;

/// Why a search request is refused; the Display is the message clients see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("k must be within 1..={MAX_K}")]
    K(usize),
    /// `name`: `category` or `filters.brand`.
    #[error("`{name}` must be at most {MAX_FILTER_CHARS} characters without control characters")]
    Filter { name: &'static str },
    #[error("price filters must be finite numbers")]
    Price,
}

impl From<SearchError> for CatError {
    fn from(e: SearchError) -> Self {
        CatError::invalid(e)
    }
}

pub fn validate(contract: &ModelContract, req: &SearchRequest) -> CatResult<()> {
    check_query(contract, &req.model, &req.embedding)?;
    if req.k == 0 || req.k > MAX_K {
        return Err(SearchError::K(req.k).into());
    }
    if let Some(s) = &req.session_id {
        check_session_id(s)?;
    }
    let f = &req.filters;
    // Product texts never hold control characters (`http::rules`), so such a filter could match
    // nothing; PostgreSQL cannot even take a NUL in a parameter. Refused, as the document says.
    for (name, v) in [("category", &req.category), ("filters.brand", &f.brand)] {
        if let Some(v) = v
            && (v.chars().count() > MAX_FILTER_CHARS || v.chars().any(char::is_control))
        {
            return Err(SearchError::Filter { name }.into());
        }
    }
    if [f.max_price, f.min_price]
        .iter()
        .flatten()
        .any(|p| !p.is_finite())
    {
        return Err(SearchError::Price.into());
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use shoplook_core::wire::SearchFilters;

    pub fn product(id: &str) -> Product {
        Product {
            id: id.into(),
            title: format!("title {id}"),
            brand: "b".into(),
            price: 1.0,
            currency: "EUR".into(),
            category: "shoes".into(),
            image: "x.png".into(),
            url: format!("https://example.com/{id}"),
            in_stock: true,
        }
    }

    pub fn request(k: usize) -> SearchRequest {
        SearchRequest {
            embedding: vec![1.0, 0.0],
            model: "m@1".into(),
            k,
            category: None,
            filters: SearchFilters::default(),
            session_id: None,
            ranking: None,
        }
    }

    pub fn contract() -> ModelContract {
        ModelContract {
            id: "m".into(),
            version: "1".into(),
            dim: 2,
        }
    }

    /// A real embedded store whose catalogue (of [`contract`]) holds [`product`] `p1`.
    pub fn store_with_p1() -> std::sync::Arc<dyn crate::store::Store> {
        let dir = std::env::temp_dir().join(format!("shoplook-p1-{}", crate::random_hex(6)));
        let store: std::sync::Arc<dyn crate::store::Store> =
            std::sync::Arc::new(crate::store::sqlite::SqliteStore::open(&dir, "f32").unwrap());
        store.ensure_contract(&contract()).unwrap();
        store.upsert(&product("p1"), "h", &[0.6, 0.8]).unwrap();
        store
    }

    /// A store of fixed (id, similarity) pairs, answering best first like an ANN index.
    pub struct Fixed(pub Vec<(&'static str, f32)>, pub std::cell::Cell<usize>);

    impl Candidates for Fixed {
        fn nearest(&self, _q: &SearchRequest, n: usize) -> CatResult<Vec<(Product, f32)>> {
            self.1.set(n);
            let mut all: Vec<_> = self.0.iter().map(|(i, s)| (product(i), *s)).collect();
            all.sort_by(|a, b| b.1.total_cmp(&a.1));
            all.truncate(n);
            Ok(all)
        }
    }

    #[test]
    fn pipeline_answers_k_nearest_best_first_with_their_similarity() {
        let store = Fixed(
            vec![("a", 0.2), ("b", 0.9), ("c", 0.5), ("d", 0.7)],
            Default::default(),
        );
        let resp = Pipeline::default()
            .run(&store, &contract(), &request(3))
            .unwrap();
        let got: Vec<_> = resp
            .results
            .iter()
            .map(|h| (h.id.as_str(), h.score))
            .collect();
        assert_eq!(got, [("b", 0.9), ("d", 0.7), ("c", 0.5)]);
        assert_eq!(resp.model, "m@1");
        assert_eq!(resp.query_id.len(), 16);
        assert_eq!(
            store.1.get(),
            3,
            "similarity ranking needs no extra candidates"
        );
    }

    #[test]
    fn validation_refuses_what_the_api_refuses() {
        let c = contract();
        assert!(validate(&c, &request(1)).is_ok());
        assert!(matches!(
            validate(&c, &request(0)),
            Err(CatError::Invalid(_))
        ));
        assert!(matches!(
            validate(&c, &request(MAX_K + 1)),
            Err(CatError::Invalid(_))
        ));
        let mut other = request(1);
        other.model = "other@1".into();
        assert!(matches!(validate(&c, &other), Err(CatError::Contract(_))));
        let mut nan = request(1);
        nan.filters.max_price = Some(f64::NAN);
        assert!(matches!(validate(&c, &nan), Err(CatError::Invalid(_))));
        let mut short = request(1);
        short.embedding = vec![1.0];
        assert!(matches!(validate(&c, &short), Err(CatError::Contract(_))));
    }

    #[test]
    fn category_and_brand_filters_hold_no_control_characters() {
        let c = contract();
        let with = |category: &str, brand: &str| {
            let mut r = request(1);
            r.category = Some(category.into());
            r.filters.brand = Some(brand.into());
            validate(&c, &r)
        };
        assert!(with("shoes", "Demo Sports").is_ok());
        assert!(with(&"é".repeat(200), "").is_ok());
        for (category, brand) in [
            ("sho\0es", "b"),
            ("shoes", "a\u{1a}"),
            ("shoes", "\u{85}"),
            (&"x".repeat(201), "b"),
        ] {
            let e = with(category, brand).unwrap_err().to_string();
            assert!(e.contains("control characters"), "{e}");
        }
    }
}
