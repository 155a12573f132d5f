//! Invalid clicks (issue 22) in [`CampaignStore`](crate::CampaignStore): the per-session and
//! per-key caps checked in the charging transaction (also when clicks come at once), and the
//! refused clicks kept once per reason and counted in the campaign's days.

use std::collections::BTreeMap;

use super::Backend;
use super::campaigns::{DAY, T0, campaign, charge, spent};
use crate::campaigns::{CampaignDay, Charged, InvalidClick, InvalidReason, day_of};

pub fn session_and_key_caps_bound_billable_clicks(backend: &dyn Backend) {
    let store = backend.open();
    let c = campaign(0, "acme");
    store.create_campaign(&c).unwrap();
    let click = |query: &str, key: &str, session: &str, at: i64| {
        let mut k = charge(&c, query, 10, 1_000, at);
        k.key_name = key.into();
        k.session_id = session.into();
        k.session_cap = 2;
        k.key_cap_cents = 50;
        store.charge_click(&k).unwrap()
    };
    // Two billable clicks per session and day; the third search's click is over the cap.
    assert_eq!(click("q1", "app", "s1", T0), Charged::Yes);
    assert_eq!(click("q2", "app", "s1", T0 + 1), Charged::Yes);
    assert_eq!(click("q3", "app", "s1", T0 + 2), Charged::SessionCap);
    // The key's share (50 cents an hour): three more sessions' clicks, then no more.
    assert_eq!(click("q4", "app", "s2", T0 + 3), Charged::Yes);
    assert_eq!(click("q5", "app", "s3", T0 + 4), Charged::Yes);
    assert_eq!(click("q6", "app", "s4", T0 + 5), Charged::Yes);
    assert_eq!(click("q7", "app", "s5", T0 + 6), Charged::KeyCap);
    // Another key has a share of its own; the first key's comes back as the hour slides on.
    assert_eq!(click("q8", "web", "s6", T0 + 7), Charged::Yes);
    assert_eq!(click("q9", "app", "s7", T0 + 3600), Charged::Yes);
    assert_eq!(click("q9", "app", "s7", T0 + 3601), Charged::Already);
    // The next day, the session may click again.
    assert_eq!(click("q10", "app", "s1", T0 + DAY), Charged::Yes);
    assert_eq!(spent(store.as_ref(), &c, day_of(T0)), 70);
}

pub fn concurrent_clicks_never_pass_the_key_cap(backend: &dyn Backend) {
    const THREADS: usize = 4;
    const EACH: usize = 25;
    let store = backend.open();
    let c = campaign(1, "acme");
    store.create_campaign(&c).unwrap();
    let store = store.as_ref();
    // 100 clicks from one key, each in a session of its own, at once; the key's share is 10.
    let results: Vec<Charged> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let c = &c;
                s.spawn(move || {
                    (0..EACH)
                        .map(|i| {
                            let mut k = charge(c, &format!("q{t}-{i}"), 10, 1_000, T0 + 1);
                            k.session_cap = 1;
                            k.key_cap_cents = 100;
                            store.charge_click(&k).unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    let yes = results.iter().filter(|r| **r == Charged::Yes).count();
    let capped = results.iter().filter(|r| **r == Charged::KeyCap).count();
    assert_eq!((yes, capped), (10, THREADS * EACH - 10));
    assert_eq!(spent(store, &c, day_of(T0)), 100);
}

pub fn invalid_clicks_are_kept_once_per_reason_and_counted(backend: &dyn Backend) {
    let store = backend.open();
    let c = campaign(2, "acme");
    store.create_campaign(&c).unwrap();
    let invalid = |query: &str, reason, at| InvalidClick {
        campaign_id: c.id.clone(),
        query_id: query.into(),
        reason,
        key_name: "app".into(),
        session_id: Some("s1".into()),
        at,
    };
    // A replayed refused click counts once; another reason on the same search counts too.
    for _ in 0..5 {
        store
            .record_invalid_click(&invalid("q1", InvalidReason::TooFast, T0))
            .unwrap();
    }
    store
        .record_invalid_click(&invalid("q1", InvalidReason::Duplicate, T0 + 5))
        .unwrap();
    store
        .record_invalid_click(&invalid("q2", InvalidReason::TooFast, T0 + 6))
        .unwrap();
    let mut other = invalid("q3", InvalidReason::KeyCap, T0 + DAY);
    other.session_id = None;
    store.record_invalid_click(&other).unwrap();
    assert_eq!(
        store
            .charge_click(&charge(&c, "q1", 10, 1_000, T0 + 2))
            .unwrap(),
        Charged::Yes
    );
    let day = day_of(T0);
    assert_eq!(
        store.campaign_days(&c.id).unwrap(),
        [
            CampaignDay {
                day,
                clicks: 1,
                spend_cents: 10,
                invalid: BTreeMap::from([
                    (InvalidReason::TooFast, 2),
                    (InvalidReason::Duplicate, 1)
                ]),
                ..Default::default()
            },
            CampaignDay {
                day: day + 1,
                invalid: BTreeMap::from([(InvalidReason::KeyCap, 1)]),
                ..Default::default()
            }
        ]
    );
}
