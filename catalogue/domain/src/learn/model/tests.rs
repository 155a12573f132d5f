//! The model's unit tests.

use super::*;
use crate::store::SearchRecord;
use shoplook_core::wire::{Event, Ranking};

fn search(
    seq: u64,
    qid: &str,
    key: &str,
    session: &str,
    v: Vec<f32>,
    shown: &[&str],
) -> LoggedSearch {
    LoggedSearch {
        seq,
        at: 0,
        search: SearchRecord {
            query_id: qid.into(),
            key_name: key.into(),
            session_id: Some(session.into()),
            category: None,
            ranking: Ranking::Visual,
            embedding: v,
            shown: shown.iter().map(|s| s.to_string()).collect(),
        },
    }
}

fn event(kind: EventType, qid: &str, p: &str, key: &str, session: &str) -> LoggedEvent {
    LoggedEvent {
        seq: 0,
        at: 0,
        key_name: key.into(),
        event: Event {
            kind,
            product_id: p.into(),
            query_id: Some(qid.into()),
            position: None,
            session_id: Some(session.into()),
        },
    }
}

#[test]
fn clicked_products_gain_and_position_is_corrected() {
    let mut m = Model::new(LearnConfig::default());
    for i in 0..40 {
        let q = format!("q{i}");
        m.add_search(&search(
            i,
            &q,
            "app",
            &format!("s{i}"),
            vec![1.0, 0.0],
            &["a", "b", "c"],
        ));
        // "c" is shown third, yet clicked as often as "a" shown first: a higher rate.
        if i % 4 == 0 {
            let s = format!("s{i}");
            m.add_event(&event(EventType::Click, &q, "a", "app", &s));
            m.add_event(&event(EventType::Click, &q, "c", "app", &s));
        }
    }
    m.settle();
    let e = m.explain(&[1.0, 0.0], &["a", "b", "c"]);
    assert!(e[2].clicks > e[0].clicks, "{e:?}");
    assert!(e[0].clicks > e[1].clicks, "{e:?}");
    assert!(e[1].clicks < 0.0, "shown, never clicked: {e:?}");
}

#[test]
fn one_session_clicking_thousands_of_times_counts_once() {
    let mut m = Model::new(LearnConfig::default());
    for i in 0..3000 {
        let q = format!("q{i}");
        m.add_search(&search(
            i,
            &q,
            "spam",
            "same-session",
            vec![1.0, 0.0],
            &["a", "b"],
        ));
        m.add_event(&event(EventType::Click, &q, "b", "spam", "same-session"));
    }
    m.settle();
    assert_eq!((m.session_capped_clicks(), m.clicks()), (1, 1));
}

/// Issue 22: once `max_queries` searches were held, new ones were dropped, so clicks on
/// their results taught nothing. Now the oldest make room.
#[test]
fn a_full_memory_keeps_learning_from_new_searches() {
    let cfg = LearnConfig {
        max_queries: 3,
        ..LearnConfig::default()
    };
    let mut m = Model::new(cfg);
    let shown = ["a", "b"];
    for i in 0..3u64 {
        let q = format!("old{i}");
        m.add_search(&search(i, &q, "app", &q, vec![1.0, 0.0], &shown));
    }
    // Full. Two new searches, near another query, clicked.
    for i in 0..2u64 {
        let q = format!("new{i}");
        m.add_search(&search(10 + i, &q, "app", &q, vec![0.0, 1.0], &shown));
        m.add_event(&event(EventType::Click, &q, "b", "app", &q));
    }
    // The oldest search is gone: an event about it teaches nothing.
    m.add_event(&event(EventType::Click, "old0", "a", "app", "old0"));
    m.settle();
    assert_eq!(m.searches(), 3, "bounded");
    assert_eq!(
        m.session_capped_clicks(),
        2,
        "the new searches' clicks count"
    );
    // The new searches vote as neighbours of a query like theirs.
    let e = m.explain(&[0.0, 1.0], &["a", "b"]);
    assert!(e[1].neighbours > e[0].neighbours, "{e:?}");
    // And the ring keeps turning: rows hold the newest searches, each at its own row.
    for i in 0..7u64 {
        let q = format!("later{i}");
        m.add_search(&search(20 + i, &q, "app", &q, vec![0.6, 0.8], &shown));
    }
    assert_eq!(m.searches(), 3);
    for (row, qid) in m.rows.iter().enumerate() {
        assert_eq!(m.queries[qid].row, row, "{qid}");
        assert!(qid.starts_with("later"), "{qid}");
    }
}

#[test]
fn click_rates_are_learned_or_the_global_rate() {
    let mut m = Model::new(LearnConfig::default());
    let fresh = m.click_rates(&["a", "never-seen"]);
    assert_eq!(fresh[0], fresh[1], "nothing learned: the prior for both");
    for i in 0..40 {
        let q = format!("q{i}");
        m.add_search(&search(
            i,
            &q,
            "app",
            &format!("s{i}"),
            vec![1.0, 0.0],
            &["a", "b"],
        ));
        m.add_event(&event(EventType::Click, &q, "a", "app", &format!("s{i}")));
    }
    m.settle();
    let r = m.click_rates(&["a", "b", "never-seen"]);
    assert!(r[0] > r[2] && r[2] > r[1], "{r:?}");
}

/// Issue 22: an event counts only under its search's key and session.
#[test]
fn events_of_another_key_or_session_teach_nothing() {
    let mut m = Model::new(LearnConfig::default());
    m.add_search(&search(0, "q0", "app", "s0", vec![1.0, 0.0], &["a", "b"]));
    m.add_event(&event(EventType::Click, "q0", "a", "app", "other-session"));
    m.add_event(&event(EventType::Click, "q0", "a", "other-key", "s0"));
    assert_eq!(m.session_capped_clicks(), 0);
    m.add_event(&event(EventType::Click, "q0", "a", "app", "s0"));
    assert_eq!(m.session_capped_clicks(), 1);
}

/// Issue 22: one key over fresh sessions (search, click and buy the target shown low, click a
/// decoy) is out of step with the honest key: the target gains nothing.
#[test]
fn a_steering_key_over_fresh_sessions_does_not_lift_its_target() {
    let shown = ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"];
    let mut m = Model::new(LearnConfig::default());
    for i in 0..300u64 {
        let (q, s) = (format!("h{i}"), format!("hs{i}"));
        m.add_search(&search(i, &q, "app", &s, vec![1.0, 0.0], &shown));
        m.add_event(&event(
            EventType::Click,
            &q,
            shown[(i % 3) as usize],
            "app",
            &s,
        ));
        if i % 10 == 0 {
            m.add_event(&event(EventType::Click, &q, "p6", "app", &s));
        }
    }
    m.settle();
    let before = m.explain(&[1.0, 0.0], &shown);
    for i in 0..1000u64 {
        let (q, s) = (format!("a{i}"), format!("as{i}"));
        m.add_search(&search(1000 + i, &q, "bot", &s, vec![1.0, 0.0], &shown));
        m.add_event(&event(EventType::Click, &q, "p8", "bot", &s));
        m.add_event(&event(EventType::Purchase, &q, "p8", "bot", &s));
        m.add_event(&event(
            EventType::Click,
            &q,
            shown[(i % 8) as usize],
            "bot",
            &s,
        ));
    }
    m.settle();
    let after = m.explain(&[1.0, 0.0], &shown);
    assert!(
        after[8].boost < before[8].boost + 0.005,
        "{before:?} {after:?}"
    );
    assert!(after[8].boost < after[2].boost, "{after:?}");
}

/// A key first seen after the last settle (its searches not yet followed by events) votes in
/// a neighbourhood without a trust of its own yet: trusted, and no panic.
#[test]
fn a_key_newer_than_the_last_settle_is_trusted() {
    let mut m = Model::new(LearnConfig::default());
    m.add_search(&search(0, "q0", "app", "s0", vec![1.0, 0.0], &["a", "b"]));
    m.add_event(&event(EventType::Click, "q0", "a", "app", "s0"));
    m.settle();
    m.add_search(&search(
        1,
        "q1",
        "new-key",
        "s1",
        vec![1.0, 0.0],
        &["a", "b"],
    ));
    let e = m.explain(&[1.0, 0.0], &["a", "b"]);
    assert!(e[0].neighbours > e[1].neighbours, "{e:?}");
}
