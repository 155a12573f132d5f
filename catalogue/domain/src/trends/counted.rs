//! Which logged activity the reports count (issue 22: padded cells, injected categories).
//!
//! - A click or purchase counts only when it answers a search made before it by the same app
//!   session: its `query_id` names a search logged under the same key name and the same
//!   session id, at or before the event. Any other event stays in the log (learning and ads
//!   read it) but counts in no cell and towards no threshold: otherwise a key could pad a
//!   hidden cell past `k` with invented session ids. `POST /v1/events` takes app keys only
//!   (`http::events`), so the key name an event shares with its search is an app key's.
//! - A search's free-text `category` counts under the catalogue's category of that name
//!   (ignoring case, in the catalogue's spelling); any other is taken as absent (`(none)`), so
//!   every row's category is one of the catalogue's own.

use std::collections::{BTreeMap, HashMap};

use shoplook_core::wire::EventType;

use super::{Activity, ActivityKind, ProductFacts};
use crate::error::CatResult;
use crate::store::Store;
use crate::store::trends::session_key;

/// Log rows read per call while scanning the logs.
const PAGE: usize = 2_000;

/// Where a search was made: key name, session id, time (Unix seconds).
struct Origin {
    key_name: String,
    session_id: String,
    at: i64,
}

/// The activity rows of `[from, to)` that count: the store's search rows with their category
/// checked, and click and purchase rows rebuilt from the events tied to a search.
pub fn counted_activity(
    store: &dyn Store,
    from: i64,
    to: i64,
    products: &HashMap<String, ProductFacts>,
) -> CatResult<Vec<Activity>> {
    let categories = catalogue_categories(products);
    let mut out: Vec<Activity> = store
        .trend_activity(from, to)?
        .into_iter()
        .filter(|a| a.kind == ActivityKind::Search)
        .map(|mut a| {
            a.category = known_category(a.category.as_deref(), &categories);
            a
        })
        .collect();
    out.extend(tied_events(store, from, to)?);
    Ok(out)
}

/// The catalogue's categories, by their lower-case form.
pub fn catalogue_categories(products: &HashMap<String, ProductFacts>) -> HashMap<String, String> {
    products
        .values()
        .map(|p| (p.category.to_lowercase(), p.category.clone()))
        .collect()
}

/// A search's category as the reports count it: the catalogue's spelling of it, or `None`
/// (no category) when the catalogue has no such category.
pub fn known_category(
    category: Option<&str>,
    categories: &HashMap<String, String>,
) -> Option<String> {
    category.and_then(|c| categories.get(&c.to_lowercase()).cloned())
}

/// The searches with a session id logged before `to`, by query id.
fn search_origins(store: &dyn Store, to: i64) -> CatResult<HashMap<String, Origin>> {
    let mut out = HashMap::new();
    let mut after = 0;
    loop {
        let page = store.searches_since(after, PAGE)?;
        let full = page.len() == PAGE;
        for s in page {
            after = s.seq;
            if s.at >= to {
                continue;
            }
            if let Some(session_id) = s.search.session_id {
                let origin = Origin {
                    key_name: s.search.key_name,
                    session_id,
                    at: s.at,
                };
                out.insert(s.search.query_id, origin);
            }
        }
        if !full {
            return Ok(out);
        }
    }
}

/// Click and purchase rows (per day, product and session) of the events of `[from, to)` tied
/// to an earlier search of the same key and session.
fn tied_events(store: &dyn Store, from: i64, to: i64) -> CatResult<Vec<Activity>> {
    let origins = search_origins(store, to)?;
    let mut counts: BTreeMap<(i64, ActivityKind, String, String), u64> = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = store.events_since(after, PAGE)?;
        let full = page.len() == PAGE;
        for e in page {
            after = e.seq;
            let kind = match e.event.kind {
                EventType::Click => ActivityKind::Click,
                EventType::Purchase => ActivityKind::Purchase,
                EventType::Impression => continue,
            };
            let (Some(query_id), Some(session_id)) = (&e.event.query_id, &e.event.session_id)
            else {
                continue;
            };
            let tied = origins.get(query_id).is_some_and(|o| {
                o.key_name == e.key_name && o.session_id == *session_id && o.at <= e.at
            });
            if tied && (from..to).contains(&e.at) {
                let key = (
                    e.at.div_euclid(86_400),
                    kind,
                    e.event.product_id,
                    session_key(&e.key_name, session_id),
                );
                *counts.entry(key).or_default() += 1;
            }
        }
        if !full {
            break;
        }
    }
    Ok(counts
        .into_iter()
        .map(|((day, kind, product_id, session), count)| Activity {
            day,
            kind,
            product_id,
            category: None,
            session,
            count,
        })
        .collect())
}

#[cfg(test)]
#[path = "counted_tests.rs"]
mod tests;
