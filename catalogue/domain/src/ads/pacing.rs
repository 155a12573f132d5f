//! Pacing: how much of its daily budget a campaign may have spent by a time of the day.
//!
//! `asap`: the whole budget at any time. `even`: the budget spread evenly over the part of the
//! UTC day the campaign runs in (from the later of midnight and its start to the earlier of the
//! next midnight and its end), `slack` seconds ahead, so that a campaign is not starved by the
//! first click of each slice:
//!
//! ```text
//! cap(t) = budget x min(1, (t - window_start + slack) / (window_end - window_start))
//! ```
//!
//! Integer cents throughout (the product is taken in 128 bits, then floored).

use crate::store::campaigns::{Campaign, Pacing, day_of};

/// Most the campaign may have been charged on `now`'s UTC day, by `now` (cents).
pub fn spend_cap(c: &Campaign, now: i64, slack_s: i64) -> i64 {
    let budget = c.daily_budget_cents;
    if c.pacing == Pacing::Asap {
        return budget;
    }
    let midnight = day_of(now) * 86_400;
    let start = midnight.max(c.starts_at);
    let end = (midnight + 86_400).min(c.ends_at.unwrap_or(i64::MAX));
    if end <= start {
        return budget;
    }
    let elapsed = now
        .saturating_sub(start)
        .saturating_add(slack_s.max(0))
        .clamp(0, end - start);
    (i128::from(budget) * i128::from(elapsed) / i128::from(end - start)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign(pacing: Pacing, starts_at: i64, ends_at: Option<i64>) -> Campaign {
        Campaign {
            id: "cmp_1".into(),
            advertiser: "a".into(),
            name: "n".into(),
            product_id: "p".into(),
            bid_cents: 10,
            daily_budget_cents: 86_400,
            pacing,
            frequency_cap: 3,
            starts_at,
            ends_at,
            paused: false,
            created_at: 0,
            spent_today_cents: 0,
        }
    }

    const DAY: i64 = 20_000 * 86_400;

    #[test]
    fn even_pacing_follows_the_clock_with_slack() {
        let c = campaign(Pacing::Even, 0, None);
        // One cent a second over the day; an hour of slack ahead.
        assert_eq!(spend_cap(&c, DAY, 3600), 3600);
        assert_eq!(spend_cap(&c, DAY + 6 * 3600, 3600), 7 * 3600);
        assert_eq!(spend_cap(&c, DAY + 6 * 3600, 0), 6 * 3600);
        assert_eq!(
            spend_cap(&c, DAY + 86_399, 3600),
            86_400,
            "never past the budget"
        );
        // The next day starts again from the slack.
        assert_eq!(spend_cap(&c, DAY + 86_400, 3600), 3600);
        assert_eq!(spend_cap(&campaign(Pacing::Asap, 0, None), DAY, 0), 86_400);
    }

    #[test]
    fn a_campaign_starting_or_ending_mid_day_spreads_over_its_part_of_the_day() {
        // Starts at 18:00: the budget spreads over the last 6 hours.
        let c = campaign(Pacing::Even, DAY + 18 * 3600, None);
        assert_eq!(spend_cap(&c, DAY + 21 * 3600, 0), 43_200);
        // Runs 06:00-08:00: half the budget by 07:00.
        let c = campaign(Pacing::Even, DAY + 6 * 3600, Some(DAY + 8 * 3600));
        assert_eq!(spend_cap(&c, DAY + 7 * 3600, 0), 43_200);
        assert_eq!(spend_cap(&c, DAY + 5 * 3600, 0), 0, "before its start");
    }

    #[test]
    fn huge_budgets_do_not_overflow() {
        let mut c = campaign(Pacing::Even, 0, None);
        c.daily_budget_cents = i64::MAX / 2;
        let cap = spend_cap(&c, DAY + 43_200, 0);
        assert_eq!(cap, (i64::MAX / 2) / 2);
    }
}
