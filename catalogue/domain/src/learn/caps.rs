//! How much one API key may move the learned rates (issue 22, item 3): the caps of a key's
//! counts of one product, and each key's trust, measured against the other keys' habits.
//!
//! A red team's single app key, over fresh session ids (search, click and buy the target,
//! click a random decoy), lifted an unrelated product from rank 19 to 7: the cap of a key's
//! clicks of one product by its clicks of the others is met by the decoys. What it cannot
//! hide is its habits, next to the other keys': nearly all its clicks are of products shown
//! low, and each of its sessions ends in buying a product shown low. So:
//!
//! - **Trust.** A key is trusted (1) unless its share of clicks on low positions (below
//!   [`LOW_POSITION`]) or its share of sessions whose every search ended in a click and a
//!   purchase of a product shown low is more than twice the other keys' (plus a margin); past
//!   that its trust falls with the square of the excess, for each of the two. A key alone, or
//!   the only one with clicks, has nobody to be compared with: trusted.
//! - **Share cap.** What a key gave product `p` beyond `max(floor, share x what the other keys
//!   gave p)` (the others weighted by their own trust, so that two odd keys cannot vouch for
//!   each other) counts only at the key's trust: a trusted key counts in full (one app's
//!   shoppers are usually one key), an odd key can only echo what the others saw.
//! - The key's counts are then scaled by its trust as well (its examinations too, so an odd
//!   key cannot drag the products it was shown down either).

use super::model::Counts;

/// Positions past this one are low: a shopper rarely looks there, so clicks there are where
/// a steering key shows.
pub const LOW_POSITION: usize = 5;

/// A key's odd share may be this many times the other keys' ...
const ODD_RATIO: f64 = 2.0;
/// ... plus this much, before its trust falls.
const ODD_MARGIN: f64 = 0.05;
/// Clicks the other keys need before a key is compared with them.
const MIN_RIVAL_CLICKS: f64 = 20.0;

/// What a key's trust is computed from.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct KeyHabits {
    /// Counted clicks (after the session caps), and those of products shown below
    /// [`LOW_POSITION`].
    pub clicks: f64,
    pub low_clicks: f64,
    /// Sessions with a confirmed search, and those whose every confirmed search ended in a
    /// click and a purchase of a product shown low.
    pub sessions: f64,
    pub steering_sessions: f64,
}

impl KeyHabits {
    fn add(&mut self, o: &KeyHabits) {
        self.clicks += o.clicks;
        self.low_clicks += o.low_clicks;
        self.sessions += o.sessions;
        self.steering_sessions += o.steering_sessions;
    }
    /// Share of clicks on low positions (weakly smoothed).
    fn low_share(&self) -> f64 {
        (self.low_clicks + 1.0) / (self.clicks + 4.0)
    }
    /// Share of steering-shaped sessions (weakly smoothed).
    fn steering_share(&self) -> f64 {
        (self.steering_sessions + 0.5) / (self.sessions + 10.0)
    }
}

/// A session's searches (confirmed) and those that ended in a click and a purchase of a
/// product shown low.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionShape {
    pub searches: u32,
    pub bought_low: u32,
}

impl SessionShape {
    /// (1 if it counts as a session, 1 if every search of it ended in buying low).
    pub fn habits(&self) -> (f64, f64) {
        let session = self.searches > 0;
        let steering = session && self.bought_low >= self.searches;
        (f64::from(u8::from(session)), f64::from(u8::from(steering)))
    }
}

/// Each key's trust in [0, 1] (see the module comment).
pub fn trust(habits: &[KeyHabits]) -> Vec<f64> {
    let mut all = KeyHabits::default();
    habits.iter().for_each(|h| all.add(h));
    habits
        .iter()
        .map(|mine| {
            let rest = KeyHabits {
                clicks: all.clicks - mine.clicks,
                low_clicks: all.low_clicks - mine.low_clicks,
                sessions: all.sessions - mine.sessions,
                steering_sessions: all.steering_sessions - mine.steering_sessions,
            };
            if rest.clicks < MIN_RIVAL_CLICKS {
                return 1.0;
            }
            let fall = |mine: f64, rest: f64| {
                let allowed = ODD_RATIO * rest + ODD_MARGIN;
                (allowed / mine).min(1.0).powi(2)
            };
            fall(mine.low_share(), rest.low_share())
                * fall(mine.steering_share(), rest.steering_share())
        })
        .collect()
}

/// `mine` (one key's counts of one product) with its clicks and purchases beyond
/// `max(floor, share x others)` counted at `trust` (examinations are left as they are).
pub fn share_capped(mine: &Counts, others: &Counts, trust: f64, floor: f64, share: f64) -> Counts {
    let cap = |mine: f64, others: f64| {
        let cap = floor.max(share * others);
        if mine <= cap {
            mine
        } else {
            cap + trust * (mine - cap)
        }
    };
    Counts {
        exams: mine.exams,
        clicks: cap(mine.clicks, others.clicks),
        purchases: cap(mine.purchases, others.purchases),
    }
}

/// `self` (one key's counts for one product) capped at `floor` + the key's counts for every
/// other product (`total` - `self`): a key clicking one product thousands of times moves it
/// by `floor` clicks at most.
pub fn own_capped(mine: &Counts, total: &Counts, floor: f64, exam_floor: f64) -> Counts {
    let cap = |mine: f64, all: f64, f: f64| mine.min(f + (all - mine).max(0.0));
    Counts {
        exams: cap(mine.exams, total.exams, exam_floor),
        clicks: cap(mine.clicks, total.clicks, floor),
        purchases: cap(mine.purchases, total.purchases, floor),
    }
}

/// Each key's counts of each product (one row per key, one column per product, already
/// capped by [`own_capped`]) after the share cap, relative to the other keys' counts
/// weighted by their trust. A key newer than `trust` (nothing of it settled yet) is trusted.
pub fn share_capped_all(
    rows: &[(usize, Vec<Counts>)],
    trust: &[f64],
    floor: f64,
    share: f64,
) -> Vec<Vec<Counts>> {
    let trust_of = |k: usize| trust.get(k).copied().unwrap_or(1.0);
    let width = rows.first().map_or(0, |r| r.1.len());
    let mut vouched = vec![Counts::default(); width];
    for (k, row) in rows {
        for (v, c) in vouched.iter_mut().zip(row) {
            v.add(&c.scaled(trust_of(*k)));
        }
    }
    rows.iter()
        .map(|(k, row)| {
            let t = trust_of(*k);
            row.iter()
                .zip(&vouched)
                .map(|(c, v)| share_capped(c, &v.minus(&c.scaled(t)), t, floor, share))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn habits(clicks: f64, low: f64, sessions: f64, steering: f64) -> KeyHabits {
        KeyHabits {
            clicks,
            low_clicks: low,
            sessions,
            steering_sessions: steering,
        }
    }

    #[test]
    fn a_lone_key_is_trusted_and_a_steering_one_is_not() {
        assert_eq!(trust(&[habits(900.0, 800.0, 300.0, 290.0)]), vec![1.0]);
        let t = trust(&[
            habits(800.0, 150.0, 400.0, 8.0),
            habits(2000.0, 1800.0, 1000.0, 1000.0),
        ]);
        assert_eq!(t[0], 1.0, "{t:?}");
        assert!(t[1] < 0.01, "{t:?}");
    }

    #[test]
    fn an_odd_key_only_echoes_the_others() {
        let mine = Counts {
            exams: 50.0,
            clicks: 1000.0,
            purchases: 1000.0,
        };
        let others = Counts {
            exams: 30.0,
            clicks: 6.0,
            purchases: 1.0,
        };
        let c = share_capped(&mine, &others, 0.0, 2.0, 0.5);
        assert_eq!((c.exams, c.clicks, c.purchases), (50.0, 3.0, 2.0));
        assert_eq!(share_capped(&mine, &others, 1.0, 2.0, 0.5), mine);
    }
}
