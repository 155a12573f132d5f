//! Wire types of the catalogue HTTP API (`/v1/...`), shared by the server (crate
//! `shoplook-catalogue`) and the client ([`crate::client`]). Plain serde structs: no I/O here.

use serde::{Deserialize, Serialize};

/// A product as the catalogue stores and returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub brand: String,
    pub price: f64,
    pub currency: String,
    #[serde(default)]
    pub category: String,
    /// Image the product was embedded from: a local path or an http(s) URL.
    pub image: String,
    /// The purchase link.
    pub url: String,
    #[serde(default = "yes")]
    pub in_stock: bool,
}

fn yes() -> bool {
    true
}

/// Optional restrictions of a search.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_price: Option<f64>,
    /// Exact brand, compared case-insensitively.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// `true`: only products in stock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_stock: Option<bool>,
}

impl SearchFilters {
    pub fn is_empty(&self) -> bool {
        self == &SearchFilters::default()
    }
}

/// `POST /v1/search` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    /// Unit-length query vector.
    pub embedding: Vec<f32>,
    /// Model contract of the vector, `id@version` (see `ModelContract`'s Display).
    pub model: String,
    #[serde(default = "default_k")]
    pub k: usize,
    /// Only products of this category (exact, case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "SearchFilters::is_empty")]
    pub filters: SearchFilters,
    /// Random id the SDK makes per app session and rotates (never a device or user id);
    /// 8-64 characters of `[A-Za-z0-9_-]`. Logged with the search; caps what one session can
    /// teach the learned ranking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// `visual` (similarity only) or `learned` (similarity + what shoppers clicked and
    /// bought). Default: learned once the service has enough data, visual before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranking: Option<Ranking>,
}

/// How a search orders its results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ranking {
    /// By cosine similarity only.
    #[default]
    Visual,
    /// Similarity plus a boost learned from clicks and purchases.
    Learned,
}

impl Ranking {
    pub fn as_str(&self) -> &'static str {
        match self {
            Ranking::Visual => "visual",
            Ranking::Learned => "learned",
        }
    }
}

pub fn default_k() -> usize {
    10
}

/// Largest `k` a search may ask for.
pub const MAX_K: usize = 100;

/// One result of a search: the product, its cosine similarity to the query, and whether it is
/// an ad.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub id: String,
    pub title: String,
    pub brand: String,
    pub price: f64,
    pub currency: String,
    pub category: String,
    pub image: String,
    pub url: String,
    pub in_stock: bool,
    /// The score results are ordered by: `similarity + boost`.
    pub score: f32,
    /// Cosine similarity to the query, in [-1, 1].
    #[serde(default)]
    pub similarity: f32,
    /// What the learned ranking added (0 under `visual` ranking).
    #[serde(default)]
    pub boost: f32,
    /// A paid placement (an ad slot won in the auction), to be labelled "Sponsored".
    #[serde(default)]
    pub sponsored: bool,
    /// The campaign of a sponsored hit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<String>,
}

impl SearchHit {
    /// A hit ranked by similarity alone (`score = similarity`, no boost).
    pub fn new(p: Product, similarity: f32) -> Self {
        SearchHit::explained(p, similarity, 0.0)
    }

    /// A hit with its explanation: `score = similarity + boost`.
    pub fn explained(p: Product, similarity: f32, boost: f32) -> Self {
        SearchHit {
            id: p.id,
            title: p.title,
            brand: p.brand,
            price: p.price,
            currency: p.currency,
            category: p.category,
            image: p.image,
            url: p.url,
            in_stock: p.in_stock,
            score: similarity + boost,
            similarity,
            boost,
            sponsored: false,
            campaign_id: None,
        }
    }

    /// A sponsored hit of `campaign_id` (`score = similarity`).
    pub fn sponsored(p: Product, similarity: f32, campaign_id: String) -> Self {
        SearchHit {
            sponsored: true,
            campaign_id: Some(campaign_id),
            ..SearchHit::new(p, similarity)
        }
    }
}

/// `POST /v1/search` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResponse {
    pub results: Vec<SearchHit>,
    /// Identifies this search in later events (impressions, clicks, purchases).
    pub query_id: String,
    /// The catalogue's model contract.
    pub model: String,
    /// The ranking used (the request's, or the default at the time).
    #[serde(default)]
    pub ranking: Ranking,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    Impression,
    Click,
    Purchase,
}

impl EventType {
    pub fn as_str(&self) -> &'static str {
        match self {
            EventType::Impression => "impression",
            EventType::Click => "click",
            EventType::Purchase => "purchase",
        }
    }
}

/// `POST /v1/events` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: EventType,
    pub product_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_id: Option<String>,
    /// 1-based position of the product in the results of `query_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    /// The SDK's session id (as in the search).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

/// `PUT /v1/products` body item: a product with its embedding (computed by the caller with
/// the catalogue's model contract).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductUpsert {
    #[serde(flatten)]
    pub product: Product,
    pub embedding: Vec<f32>,
    pub model: String,
}

/// Error body of every non-2xx answer: `{"error":{"code":"...","message":"..."}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Machine-readable: `unauthorized`, `rate_limited`, `contract_mismatch`, `bad_request`,
    /// `not_found`, `payload_too_large`, `internal`.
    pub code: String,
    pub message: String,
}

/// Error code the server uses for a vector of another model contract or dimension.
pub const CODE_CONTRACT_MISMATCH: &str = "contract_mismatch";
