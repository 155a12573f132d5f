//! What the trend reports (`shoplook_domain::trends`) read from the logs, and the import of dated logs
//! (the demo traffic of `seed-events`). Both stores answer with the same rows; the reports are
//! computed from them by the same code, so both give the same report.

use shoplook_core::wire::Event;

use super::searches::SearchRecord;
use crate::error::CatResult;

/// What an activity row counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActivityKind {
    Search,
    Click,
    Purchase,
}

/// Searches, clicks or purchases of one session on one day (for one product, or one search
/// category). Only rows with a session id: the unit the privacy threshold counts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Activity {
    /// Unix day number (UTC).
    pub day: i64,
    pub kind: ActivityKind,
    /// The product (clicks, purchases); empty for searches.
    pub product_id: String,
    /// The search's category (searches only).
    pub category: Option<String>,
    /// `key name` + NUL + `session id`: sessions of different apps never merge.
    pub session: String,
    pub count: u64,
}

/// A logged query embedding with its session.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryVector {
    pub day: i64,
    pub session: String,
    pub embedding: Vec<f32>,
}

/// The product fields a report shows.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProductFacts {
    pub id: String,
    pub title: String,
    pub brand: String,
    pub category: String,
    pub price: f64,
    pub image: String,
    pub in_stock: bool,
}

/// A search or event with the time it is logged at (Unix seconds).
pub type DatedSearch = (SearchRecord, i64);
/// An event, the name of the key that reported it, and its time.
pub type DatedEvent = (Event, String, i64);

pub trait TrendLog {
    /// [`Activity`] rows of searches and of click and purchase events logged in
    /// `[from, to)` (Unix seconds) with a session id, in any order; an event only when its
    /// `query_id` names a search logged at or before it under the same key and session.
    fn trend_activity(&self, from: i64, to: i64) -> CatResult<Vec<Activity>>;
    /// Query embeddings of the searches logged in `[from, to)` with a session id, in log
    /// order, at most `limit`.
    fn query_vectors(&self, from: i64, to: i64, limit: usize) -> CatResult<Vec<QueryVector>>;
    /// Every product, sorted by id.
    fn product_facts(&self) -> CatResult<Vec<ProductFacts>>;
    /// A product's vector.
    fn product_vector(&self, id: &str) -> CatResult<Option<Vec<f32>>>;
    /// Appends dated searches and events in one transaction (events counted once, as
    /// [`super::EventLog::record_event`]); returns the events written. For logs made
    /// elsewhere (the labelled demo traffic); the service logs with its own clock.
    fn import_logs(&self, searches: &[DatedSearch], events: &[DatedEvent]) -> CatResult<u64>;
}

/// `key name` + NUL + `session id`.
pub fn session_key(key_name: &str, session_id: &str) -> String {
    format!("{key_name}\0{session_id}")
}

/// The activity kind of a stored type name (`search`, `click`, `purchase`).
pub(crate) fn activity_kind(s: &str) -> CatResult<ActivityKind> {
    Ok(match s {
        "search" => ActivityKind::Search,
        "click" => ActivityKind::Click,
        "purchase" => ActivityKind::Purchase,
        other => {
            return Err(crate::error::CatError::UnknownStored {
                what: "activity",
                value: other.to_string(),
            });
        }
    })
}

/// The activity query's SQL, shared by both stores: `$DAY` is the store's "day of `ts`"
/// expression, `$FROM`/`$TO` its bounds. An event counts only when it answers a search of the
/// same key and session logged at or before it (issue 22: otherwise invented session ids pad
/// a hidden cell past `k`); the unique index on `searches.query_id` makes that one lookup.
pub(crate) fn activity_sql(day: &str, from: &str, to: &str) -> String {
    format!(
        "SELECT {day} AS d, 'search' AS kind, '' AS product_id, category, key_name, session_id,
                count(*) AS n
         FROM searches WHERE ts >= {from} AND ts < {to} AND session_id IS NOT NULL
         GROUP BY 1, 4, 5, 6
         UNION ALL
         SELECT {day} AS d, type, product_id, NULL, key_name, session_id, count(*)
         FROM events e WHERE ts >= {from} AND ts < {to} AND session_id IS NOT NULL
             AND type IN ('click', 'purchase')
             AND EXISTS (SELECT 1 FROM searches s WHERE s.query_id = e.query_id
                 AND s.key_name = e.key_name AND s.session_id = e.session_id AND s.ts <= e.ts)
         GROUP BY 1, 2, 3, 5, 6"
    )
}
