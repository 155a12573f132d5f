//! Invalid clicks (issue 22, item 2): which clicks on an ad are billable, as ad networks filter
//! them. A click is billable only when all of these hold; otherwise it is kept, with its
//! reason ([`InvalidReason`]), and shown as invalid in the campaign's report:
//!
//! 1. `other_key`: the serve was made to the key that clicks (checked since issue 10).
//! 2. `other_session`: the click names the session the serve was made to. Searches without a
//!    session id get no ads at all ([`super::Ads::select`]): nothing could tie their clicks
//!    to a shopper, and the SDK always sends one.
//! 3. `too_fast`: at least [`ClickRules::min_dwell_s`] after the serve. Clock times are whole
//!    seconds, so the click must fall in a later second than the serve: a click made at once
//!    (a script) almost never does, a shopper's (seconds to read, decide and tap) always does.
//! 4. `expired`: within [`ClickRules::window_s`] of the serve (a serve is not a coupon).
//! 5. `duplicate`: the first billable click on that serve (one per search and campaign).
//! 6. `session_cap`: at most [`ClickRules::session_cap`] billable clicks of one session on one
//!    campaign per UTC day (3, the default frequency cap: it bounds campaigns that raise
//!    theirs; at 2 the simulator's shoppers, re-searching one look, lost 10 % of their clicks).
//! 7. `key_cap`: what one key's clicks cost one campaign over the last
//!    [`ClickRules::key_window_s`] stays within [`ClickRules::key_share_pct`] % of its daily
//!    budget. This is what bounds a key that mints a fresh session per search: sessions are
//!    free to make, keys are not.
//! 8. `over_budget`: the budget (or its pacing) has room for the price.
//!
//! 1-4 are checked here; 5-8 in the store, in the transaction that charges the click, so
//! concurrent clicks cannot all pass a cap that only one of them fits under.

use crate::store::campaigns::{AdServe, Campaign, InvalidReason};

/// The thresholds of the filter ([`super::AdsConfig::clicks`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickRules {
    /// Least time between a serve and a billable click on it (seconds).
    pub min_dwell_s: i64,
    /// Longest time between a serve and a billable click on it (seconds).
    pub window_s: i64,
    /// Most billable clicks of one session on one campaign per UTC day.
    pub session_cap: u32,
    /// The window of the per-key cap (seconds).
    pub key_window_s: i64,
    /// Most one key's clicks may cost one campaign per window, in % of its daily budget.
    pub key_share_pct: i64,
}

impl Default for ClickRules {
    fn default() -> Self {
        ClickRules {
            min_dwell_s: 1,
            window_s: 1800,
            session_cap: 3,
            key_window_s: 3600,
            key_share_pct: 10,
        }
    }
}

impl ClickRules {
    /// Checks 1-4 of a click at `now` by `key_name`, claiming `session_id`, on `serve`.
    pub fn screen(
        &self,
        serve: &AdServe,
        key_name: &str,
        session_id: Option<&str>,
        now: i64,
    ) -> Result<(), InvalidReason> {
        if serve.key_name != key_name {
            return Err(InvalidReason::OtherKey);
        }
        if serve.session_id.is_none() || serve.session_id.as_deref() != session_id {
            return Err(InvalidReason::OtherSession);
        }
        let age = now - serve.at;
        if age < self.min_dwell_s {
            return Err(InvalidReason::TooFast);
        }
        if age > self.window_s {
            return Err(InvalidReason::Expired);
        }
        Ok(())
    }

    /// Most one key's clicks may cost `c` per window (cents): the share of its daily budget,
    /// but never less than one click at `price_cents`, so a campaign whose bid is more than
    /// the share can still be clicked (once per key per window).
    pub fn key_cap_cents(&self, c: &Campaign, price_cents: i64) -> i64 {
        let share = i128::from(c.daily_budget_cents) * i128::from(self.key_share_pct) / 100;
        (share as i64).max(price_cents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(at: i64) -> AdServe {
        AdServe {
            query_id: "q".into(),
            campaign_id: "cmp_1".into(),
            product_id: "p".into(),
            position: 1,
            price_cents: 5,
            key_name: "app".into(),
            session_id: Some("s-1".into()),
            at,
        }
    }

    #[test]
    fn a_click_must_come_from_the_serves_key_and_session_in_its_window() {
        let r = ClickRules::default();
        let s = serve(1000);
        assert_eq!(r.screen(&s, "app", Some("s-1"), 1001), Ok(()));
        assert_eq!(r.screen(&s, "app", Some("s-1"), 2800), Ok(()));
        let refused = [
            ("bot", Some("s-1"), 1005, InvalidReason::OtherKey),
            ("app", Some("s-2"), 1005, InvalidReason::OtherSession),
            ("app", None, 1005, InvalidReason::OtherSession),
            ("app", Some("s-1"), 1000, InvalidReason::TooFast),
            ("app", Some("s-1"), 999, InvalidReason::TooFast),
            ("app", Some("s-1"), 2801, InvalidReason::Expired),
        ];
        for (key, session, now, why) in refused {
            assert_eq!(
                r.screen(&s, key, session, now),
                Err(why),
                "{key} {session:?} {now}"
            );
        }
        // A serve made without a session is never billable, whatever the click claims.
        let mut anonymous = serve(1000);
        anonymous.session_id = None;
        assert_eq!(
            r.screen(&anonymous, "app", None, 1005),
            Err(InvalidReason::OtherSession)
        );
    }

    #[test]
    fn the_key_cap_is_a_share_of_the_budget_but_at_least_one_click() {
        let r = ClickRules::default();
        let mut c = Campaign {
            id: "cmp_1".into(),
            advertiser: "a".into(),
            name: "n".into(),
            product_id: "p".into(),
            bid_cents: 5,
            daily_budget_cents: 500,
            pacing: crate::store::campaigns::Pacing::Asap,
            frequency_cap: 3,
            starts_at: 0,
            ends_at: None,
            paused: false,
            created_at: 0,
            spent_today_cents: 0,
        };
        assert_eq!(r.key_cap_cents(&c, 5), 50);
        assert_eq!(r.key_cap_cents(&c, 80), 80);
        c.daily_budget_cents = i64::MAX;
        assert_eq!(r.key_cap_cents(&c, 5), i64::MAX / 10);
    }
}
