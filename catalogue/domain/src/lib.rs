//! ShopLook catalogue domain: what the service does, with no HTTP and no command line.
//!
//! ```text
//! feed (JSONL/CSV) ──feed──▶ products ──ingest (core Engine: detect + embed)──▶ shoplook_store
//! search request ──search (retrieve ─▶ rank ─▶ blend)──▶ response; logged for `learn`
//!                       rank:  learn::LearnedRanker (what shoppers tapped and bought)
//!                       blend: ads::AdsBlender (the ad auction's winners in their slots)
//! trends: k-anonymous reports over the logs; keys: API keys, roles, rate limits
//! ```
//!
//! Layers point one way: `shoplook-http` and the tools call this crate, and this crate calls
//! `shoplook-store` (re-exported as [`store`]) and `shoplook-core`.
//!
//! Product images are embedded by exactly the same code and model as the phone (`shoplook-core`),
//! and every vector carries its model contract: a query under another contract is refused.

pub mod ads;
pub mod events;
pub mod feed;
pub mod ingest;
pub mod keys;
pub mod learn;
pub mod products;
pub mod rules;
pub mod search;
pub mod trends;

pub use shoplook_store as store;
pub use shoplook_store::{
    CatError, CatResult, Store, StoreConfig, error, hex, iso_date, now_s, open_store, random_hex,
    sha256_hex,
};
