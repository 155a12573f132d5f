//! [`CampaignStore`](crate::CampaignStore): campaigns made, listed and paused, the auction's
//! live campaigns, the ads served, and clicks charged once each within the day's cap and
//! budget, also when they come at once.

use std::collections::HashMap;

use super::*;
use crate::campaigns::{
    AdServe, Campaign, CampaignDay, Charged, ClickCharge, LiveCampaign, Pacing, day_of,
};

pub(super) const DAY: i64 = 86_400;
/// When the test campaigns start: 08:00 UTC, so that a few hours either way is the same day.
pub(super) const T0: i64 = 1_800_000_000;

/// Campaign `i` of `advertiser`: product `i` promoted from [`T0`] on, no end, 10 EUR a day.
pub(super) fn campaign(i: usize, advertiser: &str) -> Campaign {
    Campaign {
        id: format!("cmp_{i:016x}"),
        advertiser: advertiser.into(),
        name: format!("Campaign {i}"),
        product_id: product(i).id,
        bid_cents: 40 + i as i64,
        daily_budget_cents: 1_000,
        pacing: [Pacing::Even, Pacing::Asap][i % 2],
        frequency_cap: 3,
        starts_at: T0,
        ends_at: None,
        paused: false,
        created_at: T0 - 1_000 + i as i64,
        spent_today_cents: 0,
    }
}

/// A click on search `query`'s ad, by key `app` in a session of its own, no cap but `cap_cents`.
pub(super) fn charge(
    c: &Campaign,
    query: &str,
    price_cents: i64,
    cap_cents: i64,
    at: i64,
) -> ClickCharge {
    ClickCharge {
        campaign_id: c.id.clone(),
        query_id: query.into(),
        price_cents,
        cap_cents,
        at,
        key_name: "app".into(),
        session_id: format!("session-{query}"),
        session_cap: u32::MAX,
        key_cap_cents: i64::MAX,
        key_window_s: 3600,
    }
}

pub(super) fn spent(store: &dyn Store, c: &Campaign, day: i64) -> i64 {
    store
        .campaign(&c.id, day)
        .unwrap()
        .expect("the campaign")
        .spent_today_cents
}

pub fn campaigns_are_created_listed_and_paused(backend: &dyn Backend) {
    let store = backend.open();
    let today = day_of(T0);
    assert!(store.campaigns(None, today).unwrap().is_empty());
    let c0 = campaign(0, "acme");
    assert_eq!(store.campaign(&c0.id, today).unwrap(), None);
    let c1 = Campaign {
        ends_at: Some(T0 + 30 * DAY),
        ..campaign(1, "zeta")
    };
    let c2 = campaign(2, "acme");
    // Made in the same second as c0: the id orders them.
    let c3 = Campaign {
        created_at: c0.created_at,
        paused: true,
        ..campaign(3, "acme")
    };
    for c in [&c2, &c3, &c1, &c0] {
        store.create_campaign(c).unwrap();
    }
    assert_eq!(store.campaign(&c1.id, today).unwrap().as_ref(), Some(&c1));
    assert_eq!(store.campaign(&c3.id, today).unwrap().as_ref(), Some(&c3));
    assert_eq!(
        store.campaigns(None, today).unwrap(),
        [c0.clone(), c3.clone(), c1.clone(), c2.clone()],
        "every campaign, oldest first"
    );
    assert_eq!(
        store.campaigns(Some("acme"), today).unwrap(),
        [c0.clone(), c3.clone(), c2.clone()]
    );
    assert!(store.campaigns(Some("nobody"), today).unwrap().is_empty());

    // An id is used once: the first campaign is kept.
    let impostor = Campaign {
        name: "Impostor".into(),
        ..c0.clone()
    };
    assert!(store.create_campaign(&impostor).is_err());
    assert_eq!(store.campaign(&c0.id, today).unwrap().as_ref(), Some(&c0));

    assert!(store.set_paused(&c1.id, true).unwrap());
    assert!(store.campaign(&c1.id, today).unwrap().unwrap().paused);
    assert!(store.set_paused(&c3.id, false).unwrap());
    assert!(!store.campaign(&c3.id, today).unwrap().unwrap().paused);
    assert!(!store.set_paused("cmp_missing", true).unwrap());

    let listed = store.campaigns(None, today).unwrap();
    drop(store);
    assert_eq!(backend.open().campaigns(None, today).unwrap(), listed);
}

pub fn live_campaigns_are_unpaused_in_flight_and_have_their_product(backend: &dyn Backend) {
    let store = backend.open();
    let now = T0 + 10;
    let live = campaign(0, "acme");
    store.create_campaign(&live).unwrap();
    assert!(
        store.live_campaigns(now).unwrap().is_empty(),
        "no product in the catalogue yet"
    );
    store.ensure_contract(&contract()).unwrap();
    for i in 0..6 {
        store.upsert(&product(i), &hash(i), &vector(i)).unwrap();
    }
    let ending = Campaign {
        ends_at: Some(now + 1),
        ..campaign(1, "acme")
    };
    let paused = Campaign {
        paused: true,
        ..campaign(2, "acme")
    };
    let later = Campaign {
        starts_at: T0 + DAY,
        ..campaign(3, "zeta")
    };
    // The end is exclusive.
    let ended = Campaign {
        ends_at: Some(now),
        ..campaign(4, "acme")
    };
    let orphan = Campaign {
        product_id: "no-such-product".into(),
        ..campaign(5, "acme")
    };
    for c in [&ending, &paused, &later, &ended, &orphan] {
        store.create_campaign(c).unwrap();
    }
    let with_product = |c: &Campaign, i: usize| LiveCampaign {
        campaign: c.clone(),
        product: product(i),
        embedding: vector(i),
    };
    assert_eq!(
        store.live_campaigns(now).unwrap(),
        [with_product(&live, 0), with_product(&ending, 1)]
    );

    // With the spend of the day asked for.
    let click = charge(&live, "q1", 30, 1_000, now);
    assert_eq!(store.charge_click(&click).unwrap(), Charged::Yes);
    assert_eq!(
        store.live_campaigns(now).unwrap()[0]
            .campaign
            .spent_today_cents,
        30
    );
    let tomorrow = T0 + DAY;
    assert_eq!(
        store.live_campaigns(tomorrow).unwrap(),
        [with_product(&live, 0), with_product(&later, 3)],
        "a new day: nothing spent yet, one flight over and one begun"
    );
    // A product deleted takes its campaign out of the auction.
    assert!(store.delete(&live.product_id).unwrap());
    assert_eq!(
        store.live_campaigns(tomorrow).unwrap(),
        [with_product(&later, 3)]
    );
}

pub fn clicks_are_charged_once_within_the_cap_and_the_budget(backend: &dyn Backend) {
    let store = backend.open();
    let c = Campaign {
        daily_budget_cents: 100,
        ..campaign(0, "acme")
    };
    store.create_campaign(&c).unwrap();
    let day = day_of(T0);
    let at = T0 + 5;
    let next = T0 + DAY;
    let charged = |query: &str, price: i64, cap: i64, at: i64| {
        store
            .charge_click(&charge(&c, query, price, cap, at))
            .unwrap()
    };
    assert_eq!(charged("q1", 40, 100, at), Charged::Yes);
    assert_eq!(
        charged("q1", 40, 100, at),
        Charged::Already,
        "once per search"
    );
    assert_eq!(charged("q2", 40, 100, at), Charged::Yes);
    // 80 + 30 is past the budget (whatever the cap): refused, and not even the click kept...
    assert_eq!(charged("q3", 30, 1_000, at), Charged::Refused);
    // ...so the same search may be charged at a price that fits.
    assert_eq!(charged("q3", 20, 1_000, at), Charged::Yes);
    assert_eq!(
        charged("q4", 1, 1_000, at),
        Charged::Refused,
        "budget spent"
    );
    // The next day has its own budget; a cap (pacing) below it binds.
    assert_eq!(
        charged("q5", 40, 30, next),
        Charged::Refused,
        "over the cap"
    );
    assert_eq!(charged("q5", 40, 40, next), Charged::Yes);

    assert_eq!(spent(store.as_ref(), &c, day), 100);
    assert_eq!(spent(store.as_ref(), &c, day + 1), 40);
    assert_eq!(spent(store.as_ref(), &c, day + 2), 0);
    let days = |clicks, spend_cents| CampaignDay {
        day,
        impressions: 0,
        clicks,
        spend_cents,
        ..Default::default()
    };
    assert_eq!(
        store.campaign_days(&c.id).unwrap(),
        [
            days(3, 100),
            CampaignDay {
                day: day + 1,
                ..days(1, 40)
            }
        ]
    );

    // Paused: refused until resumed.
    assert!(store.set_paused(&c.id, true).unwrap());
    assert_eq!(charged("q6", 1, 1_000, next), Charged::Refused);
    assert!(store.set_paused(&c.id, false).unwrap());
    assert_eq!(charged("q6", 1, 1_000, next), Charged::Yes);

    // Outside its flight: refused.
    let flight = Campaign {
        starts_at: T0 + 2 * DAY,
        ends_at: Some(T0 + 3 * DAY),
        ..campaign(1, "acme")
    };
    store.create_campaign(&flight).unwrap();
    let flight_charge = |query: &str, at: i64| {
        store
            .charge_click(&charge(&flight, query, 1, 1_000, at))
            .unwrap()
    };
    assert_eq!(flight_charge("q1", T0 + 2 * DAY - 1), Charged::Refused);
    assert_eq!(
        flight_charge("q1", T0 + 2 * DAY),
        Charged::Yes,
        "the same search on another campaign is another click"
    );
    assert_eq!(flight_charge("q7", T0 + 3 * DAY), Charged::Refused, "ended");

    // No such campaign: nothing to charge, nothing written.
    let ghost = campaign(9, "acme");
    let click = charge(&ghost, "q1", 1, 1_000, at);
    assert_eq!(store.charge_click(&click).unwrap(), Charged::Refused);
    assert!(store.campaign_days(&ghost.id).unwrap().is_empty());
}

pub fn concurrent_clicks_never_overspend(backend: &dyn Backend) {
    const THREADS: usize = 4;
    const EACH: usize = 30;
    let store = backend.open();
    let day = day_of(T0);
    // A budget for 50 clicks of 10; 120 come at once.
    let c = Campaign {
        daily_budget_cents: 500,
        ..campaign(0, "acme")
    };
    // And 20 searches whose clicks every thread reports.
    let shared = campaign(1, "acme");
    store.create_campaign(&c).unwrap();
    store.create_campaign(&shared).unwrap();
    let store = store.as_ref();
    let (own, same) = std::thread::scope(|s| {
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let (c, shared) = (&c, &shared);
                s.spawn(move || {
                    let own: Vec<Charged> = (0..EACH)
                        .map(|i| {
                            let click = charge(c, &format!("q{t}-{i}"), 10, 500, T0 + 1);
                            store.charge_click(&click).unwrap()
                        })
                        .collect();
                    let same: Vec<Charged> = (0..20)
                        .map(|i| {
                            let click = charge(shared, &format!("q{i}"), 10, 1_000, T0 + 1);
                            store.charge_click(&click).unwrap()
                        })
                        .collect();
                    (own, same)
                })
            })
            .collect();
        let mut own = Vec::new();
        let mut same = Vec::new();
        for t in threads {
            let (o, s) = t.join().unwrap();
            own.extend(o);
            same.extend(s);
        }
        (own, same)
    });
    let count = |results: &[Charged], what: Charged| results.iter().filter(|r| **r == what).count();
    assert_eq!(count(&own, Charged::Yes), 50, "exactly the budget's worth");
    assert_eq!(count(&own, Charged::Refused), THREADS * EACH - 50);
    assert_eq!(spent(store, &c, day), 500);
    assert_eq!(
        store.campaign_days(&c.id).unwrap(),
        [CampaignDay {
            day,
            impressions: 0,
            clicks: 50,
            spend_cents: 500,
            ..Default::default()
        }]
    );
    assert_eq!(count(&same, Charged::Yes), 20, "each search charged once");
    assert_eq!(count(&same, Charged::Already), 20 * (THREADS - 1));
    assert_eq!(spent(store, &shared, day), 200);
}

pub fn ad_serves_are_counted_per_session_and_day(backend: &dyn Backend) {
    let store = backend.open();
    let (c0, c1) = (campaign(0, "acme"), campaign(1, "zeta"));
    store.create_campaign(&c0).unwrap();
    store.create_campaign(&c1).unwrap();
    let serve = |query: &str, c: &Campaign, session: Option<&str>, at: i64| AdServe {
        query_id: query.into(),
        campaign_id: c.id.clone(),
        product_id: c.product_id.clone(),
        position: 2,
        price_cents: 30,
        key_name: "app".into(),
        session_id: session.map(String::from),
        at,
    };
    store.record_ad_serves(&[]).unwrap();
    // One search served two ads.
    let first = [
        serve("q1", &c0, Some("s1"), T0),
        AdServe {
            position: 5,
            price_cents: 45,
            ..serve("q1", &c1, Some("s1"), T0)
        },
    ];
    store.record_ad_serves(&first).unwrap();
    store
        .record_ad_serves(&[
            serve("q2", &c0, Some("s1"), T0 + 100),
            serve("q3", &c0, None, T0 + 200),
            serve("q4", &c0, Some("s2"), T0 + 300),
        ])
        .unwrap();
    store
        .record_ad_serves(&[serve("q5", &c0, Some("s1"), T0 + DAY)])
        .unwrap();

    assert_eq!(
        store.ad_serve("q1", &c0.product_id).unwrap().as_ref(),
        Some(&first[0])
    );
    assert_eq!(
        store.ad_serve("q1", &c1.product_id).unwrap().as_ref(),
        Some(&first[1])
    );
    assert_eq!(store.ad_serve("q1", "p59").unwrap(), None, "not advertised");
    assert_eq!(store.ad_serve("q9", &c0.product_id).unwrap(), None);

    let day = day_of(T0);
    let counts = |pairs: &[(&Campaign, u32)]| -> HashMap<String, u32> {
        pairs.iter().map(|(c, n)| (c.id.clone(), *n)).collect()
    };
    assert_eq!(
        store.session_serves("s1", day).unwrap(),
        counts(&[(&c0, 2), (&c1, 1)])
    );
    assert_eq!(
        store.session_serves("s1", day + 1).unwrap(),
        counts(&[(&c0, 1)])
    );
    assert_eq!(
        store.session_serves("s2", day).unwrap(),
        counts(&[(&c0, 1)])
    );
    assert!(store.session_serves("s3", day).unwrap().is_empty());

    // A campaign's days: the ads served (with or without a session) and the clicks charged.
    let click = charge(&c0, "q1", 30, 1_000, T0 + 1);
    assert_eq!(store.charge_click(&click).unwrap(), Charged::Yes);
    assert_eq!(
        store.campaign_days(&c0.id).unwrap(),
        [
            CampaignDay {
                day,
                impressions: 4,
                clicks: 1,
                spend_cents: 30,
                ..Default::default()
            },
            CampaignDay {
                day: day + 1,
                impressions: 1,
                ..Default::default()
            }
        ]
    );
    assert_eq!(
        store.campaign_days(&c1.id).unwrap(),
        [CampaignDay {
            day,
            impressions: 1,
            ..Default::default()
        }]
    );
}
