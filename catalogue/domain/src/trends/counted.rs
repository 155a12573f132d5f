//! Which logged activity the reports count (issue 22: padded cells, injected categories).
//!
//! - A click or purchase counts only when it answers a search made before it by the same app
//!   session: its `query_id` names a search logged under the same key name and the same
//!   session id, at or before the event. The store's activity query applies that rule
//!   (`TrendLog::trend_activity`); any other event stays in the log (learning and ads read it)
//!   but counts in no cell and towards no threshold: otherwise a key could pad a hidden cell
//!   past `k` with invented session ids. `POST /v1/events` takes app keys only
//!   (`http::events`), so the key name an event shares with its search is an app key's.
//! - A search's free-text `category` counts under the catalogue's category of that name
//!   (ignoring case, in the catalogue's spelling); any other is taken as absent (`(none)`), so
//!   every row's category is one of the catalogue's own.

use std::collections::HashMap;

use super::{Activity, ActivityKind, ProductFacts};
use crate::error::CatResult;
use crate::store::Store;

/// The activity rows of `[from, to)` that count: the store's rows (events tied to their
/// session's search), with each search's category checked against the catalogue's.
pub fn counted_activity(
    store: &dyn Store,
    from: i64,
    to: i64,
    products: &HashMap<String, ProductFacts>,
) -> CatResult<Vec<Activity>> {
    let categories = catalogue_categories(products);
    let mut rows = store.trend_activity(from, to)?;
    for a in rows.iter_mut().filter(|a| a.kind == ActivityKind::Search) {
        a.category = known_category(a.category.as_deref(), &categories);
    }
    Ok(rows)
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

#[cfg(test)]
#[path = "counted_tests.rs"]
mod tests;
