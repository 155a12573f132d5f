//! Shoppers' events (`POST /v1/events`): impressions, clicks and purchases of a product of the
//! catalogue, stored with the key's name; a click on an ad is charged to its campaign
//! ([`crate::ads`]).

use std::sync::Arc;

use shoplook_core::wire::Event;

use crate::ads::{Ads, ClickVerdict};
use crate::error::{CatError, CatResult, Missing};
use crate::rules::may_exist;
use crate::store::Store;

/// Longest product id an event may name (in characters; the longest a product's can be).
pub const MAX_PRODUCT_ID_CHARS: usize = 200;

/// Why an event is refused before the store is asked; the Display is the message clients see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("`product_id` must be 1..={MAX_PRODUCT_ID_CHARS} characters")]
    ProductIdLength { chars: usize },
}

impl From<EventError> for CatError {
    fn from(e: EventError) -> Self {
        CatError::invalid(e)
    }
}

/// Checks an event beyond its JSON shape: the learning fields (`position`, `session_id`,
/// `query_id`), then the product id's length.
pub fn validate_event(event: &Event) -> CatResult<()> {
    crate::store::searches::check_event(event)?;
    let chars = event.product_id.chars().count();
    if !(1..=MAX_PRODUCT_ID_CHARS).contains(&chars) {
        return Err(EventError::ProductIdLength { chars }.into());
    }
    Ok(())
}

/// What recording an event did.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// `false`: the same event (key, type, query, product) was stored before.
    pub fresh: bool,
    /// What became of a click on an ad that search served: billed, or invalid and why.
    pub charged: Option<ClickVerdict>,
}

/// Records events and charges ad clicks. Blocking (store calls).
pub struct EventService {
    store: Arc<dyn Store>,
    /// The ad system whose clicks are charged; `None`: this server serves no ads.
    ads: Option<Arc<Ads>>,
}

impl EventService {
    pub fn new(store: Arc<dyn Store>, ads: Option<Arc<Ads>>) -> Self {
        EventService { store, ads }
    }

    /// Validates `event` ([`validate_event`]), checks that its product exists (else
    /// `NotFound`, nothing stored), stores it for `key_name` and charges a click on an ad.
    pub fn record(&self, event: &Event, key_name: &str, now: i64) -> CatResult<Recorded> {
        validate_event(event)?;
        // Such an id names no product: refused without asking the store (PostgreSQL cannot
        // even hold a NUL).
        if !may_exist(&event.product_id) {
            return Err(CatError::NotFound(Missing::Product(
                event.product_id.clone(),
            )));
        }
        if self.store.get(&event.product_id)?.is_none() {
            return Err(CatError::NotFound(Missing::ProductId(
                event.product_id.clone(),
            )));
        }
        let fresh = self.store.record_event(event, key_name)?;
        // Billed once per search, within its budget, if the click passes the filter
        // (`ads::fraud`); otherwise kept as invalid with its reason.
        let charged = match &self.ads {
            Some(ads) => ads.charge_click(key_name, event, now)?,
            None => None,
        };
        Ok(Recorded { fresh, charged })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    fn store() -> Arc<dyn Store> {
        let dir = std::env::temp_dir().join(format!("shoplook-events-{}", crate::random_hex(6)));
        Arc::new(SqliteStore::open(&dir, "f32").unwrap())
    }

    fn click(product_id: &str) -> Event {
        serde_json::from_value(serde_json::json!({
            "type": "click", "product_id": product_id, "query_id": "q1", "position": 1
        }))
        .unwrap()
    }

    fn stored_events(store: &dyn Store) -> usize {
        store.events_since(0, 100).unwrap().len()
    }

    #[test]
    fn an_event_for_an_unknown_product_is_refused_and_not_recorded() {
        let store = store();
        let events = EventService::new(store.clone(), None);
        for id in ["nope", "a\u{0}b"] {
            let e = events.record(&click(id), "app", 1000).unwrap_err();
            assert!(matches!(e, CatError::NotFound(_)), "{id:?}: {e}");
        }
        assert_eq!(stored_events(store.as_ref()), 0);
    }

    #[test]
    fn an_event_for_a_product_is_recorded_once() {
        let store = crate::search::tests::store_with_p1();
        let events = EventService::new(store.clone(), None);
        let first = events.record(&click("p1"), "app", 1000).unwrap();
        assert_eq!(
            first,
            Recorded {
                fresh: true,
                charged: None
            }
        );
        assert!(!events.record(&click("p1"), "app", 1000).unwrap().fresh);
        assert_eq!(stored_events(store.as_ref()), 1);
    }

    /// A click on an ad (issue 22): billed only from the serve's key and session, between
    /// the least dwell and the window after it, once; refusals kept with their reason.
    #[test]
    fn ad_clicks_are_billed_only_from_the_serves_session_in_its_window() {
        use crate::ads::{AdsConfig, ClickVerdict};
        use crate::store::campaigns::{AdServe, Campaign, InvalidReason as Why, Pacing};

        let store = crate::search::tests::store_with_p1();
        let c = Campaign {
            id: "cmp_00000000000000a1".into(),
            advertiser: "acme".into(),
            name: "Boots".into(),
            product_id: "p1".into(),
            bid_cents: 5,
            daily_budget_cents: 1000,
            pacing: Pacing::Asap,
            frequency_cap: 3,
            starts_at: 0,
            ends_at: None,
            paused: false,
            created_at: 0,
            spent_today_cents: 0,
        };
        store.create_campaign(&c).unwrap();
        let serve = |query: &str, session: Option<&str>| AdServe {
            query_id: query.into(),
            campaign_id: c.id.clone(),
            product_id: "p1".into(),
            position: 1,
            price_cents: 5,
            key_name: "app".into(),
            session_id: session.map(String::from),
            at: 1000,
        };
        store
            .record_ad_serves(&[serve("q1", Some("session-0001")), serve("q2", None)])
            .unwrap();
        let ads = crate::ads::Ads::new(store.clone(), None, AdsConfig::default());
        let events = EventService::new(store.clone(), Some(ads));
        let verdict = |query: &str, session: Option<&str>, key: &str, now: i64| {
            let mut e = click("p1");
            e.query_id = Some(query.into());
            e.session_id = session.map(String::from);
            events.record(&e, key, now).unwrap().charged.unwrap()
        };
        let s1 = Some("session-0001");
        let invalid = ClickVerdict::Invalid;
        assert_eq!(verdict("q1", s1, "app", 1000), invalid(Why::TooFast));
        assert_eq!(
            verdict("q1", Some("session-0002"), "app", 1005),
            invalid(Why::OtherSession)
        );
        assert_eq!(verdict("q2", None, "app", 1005), invalid(Why::OtherSession));
        assert_eq!(verdict("q1", s1, "bot", 1005), invalid(Why::OtherKey));
        assert_eq!(verdict("q1", s1, "app", 2801), invalid(Why::Expired));
        assert_eq!(verdict("q1", s1, "app", 1005), ClickVerdict::Billed);
        assert_eq!(verdict("q1", s1, "app", 1006), invalid(Why::Duplicate));
        let days = store.campaign_days(&c.id).unwrap();
        assert_eq!((days[0].clicks, days[0].spend_cents), (1, 5));
        let counts: Vec<(Why, u64)> = days[0].invalid.iter().map(|(r, n)| (*r, *n)).collect();
        assert_eq!(
            counts,
            [
                (Why::OtherKey, 1),
                (Why::OtherSession, 2),
                (Why::Expired, 1),
                (Why::TooFast, 1),
                (Why::Duplicate, 1)
            ]
        );
    }

    #[test]
    fn bad_events_are_invalid_with_the_field_named() {
        let events = EventService::new(store(), None);
        let long = "x".repeat(MAX_PRODUCT_ID_CHARS + 1);
        let e = events.record(&click(&long), "app", 1000).unwrap_err();
        assert_eq!(e.to_string(), "`product_id` must be 1..=200 characters");
        assert!(matches!(e, CatError::Invalid(_)));
        let mut bad_position = click("p1");
        bad_position.position = Some(0);
        let e = events.record(&bad_position, "app", 1000).unwrap_err();
        assert!(e.to_string().contains("`position`"), "{e}");
    }
}
