//! Sponsored products as stored: campaigns, the ads each search served (`ad_serves`), the clicks
//! charged (`ad_clicks`), the clicks refused (`ad_invalid_clicks`, issue 22) and each
//! campaign's spend per day (`campaign_days`). The auction,
//! pacing and the HTTP routes are in `shoplook_domain::ads`; this is what both stores keep and the one
//! operation that must be atomic in the database: [`CampaignStore::charge_click`].
//!
//! Money is in integer minor units (cents) of the service's one billing currency; days are UTC
//! days since the Unix epoch ([`day_of`]).

use std::collections::{BTreeMap, HashMap};

use shoplook_core::wire::Product;

use crate::error::{CatError, CatResult};

/// How a campaign's daily budget is spent over the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pacing {
    /// Spread over the day: by time `t` at most the share of the budget that the elapsed part of
    /// the day (plus some slack) allows.
    Even,
    /// As fast as clicks come, up to the daily budget.
    Asap,
}

impl Pacing {
    pub fn as_str(&self) -> &'static str {
        match self {
            Pacing::Even => "even",
            Pacing::Asap => "asap",
        }
    }

    pub(crate) fn parse(s: &str) -> CatResult<Pacing> {
        match s {
            "even" => Ok(Pacing::Even),
            "asap" => Ok(Pacing::Asap),
            _ => Err(CatError::UnknownStored {
                what: "campaign pacing",
                value: s.to_string(),
            }),
        }
    }
}

/// A campaign: one product promoted at a bid per click, within a daily budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    /// `cmp_` + 16 hex digits.
    pub id: String,
    /// The id of the advertiser key that made it: only that key (and admins) manage it.
    pub advertiser: String,
    pub name: String,
    pub product_id: String,
    /// Most the advertiser pays for a click (cents).
    pub bid_cents: i64,
    /// Most the campaign is charged in one UTC day (cents).
    pub daily_budget_cents: i64,
    pub pacing: Pacing,
    /// Most times one app session is shown this campaign's ad in a UTC day.
    pub frequency_cap: u32,
    /// Unix seconds.
    pub starts_at: i64,
    /// Unix seconds (exclusive); `None`: until paused.
    pub ends_at: Option<i64>,
    pub paused: bool,
    pub created_at: i64,
    /// Charged today (the day asked for by the read; 0 as written).
    pub spent_today_cents: i64,
}

impl Campaign {
    /// Not paused, and `now` within its flight.
    pub fn is_live(&self, now: i64) -> bool {
        !self.paused && self.starts_at <= now && self.ends_at.is_none_or(|e| now < e)
    }
}

/// A live campaign with its product and the product's vector, for the auction.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveCampaign {
    pub campaign: Campaign,
    pub product: Product,
    pub embedding: Vec<f32>,
}

/// One ad a search served: what a click on it is charged against.
#[derive(Debug, Clone, PartialEq)]
pub struct AdServe {
    pub query_id: String,
    pub campaign_id: String,
    pub product_id: String,
    /// 1-based position in the results.
    pub position: u32,
    /// The auction's price for a click on it (cents).
    pub price_cents: i64,
    /// The key that searched (only it may click).
    pub key_name: String,
    pub session_id: Option<String>,
    /// Unix seconds.
    pub at: i64,
}

/// A click to charge: `price_cents` to `campaign_id` for `query_id`, as long as the day's
/// spend stays within `cap_cents` (the daily budget, or less under pacing), the session has
/// made fewer than `session_cap` billable clicks on the campaign that day, and the key's
/// clicks on it over `(at - key_window_s, at]` cost at most `key_cap_cents` with this one.
#[derive(Debug, Clone, PartialEq)]
pub struct ClickCharge {
    pub campaign_id: String,
    pub query_id: String,
    pub price_cents: i64,
    pub cap_cents: i64,
    /// Unix seconds (the day charged is [`day_of`] it).
    pub at: i64,
    pub key_name: String,
    pub session_id: String,
    pub session_cap: u32,
    pub key_cap_cents: i64,
    pub key_window_s: i64,
}

/// Why a click on an ad was not billed (`ad_invalid_clicks.reason`; see
/// `shoplook_domain::ads::fraud` for the rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InvalidReason {
    /// The serve was made to another key.
    OtherKey,
    /// The click names another session than the serve's, or none.
    OtherSession,
    /// Later than the click window after the serve.
    Expired,
    /// Sooner after the serve than a person clicks.
    TooFast,
    /// That serve's click was billed before.
    Duplicate,
    /// The session's billable clicks on the campaign that day are used up.
    SessionCap,
    /// The key's clicks on the campaign cost its share of the budget in the window.
    KeyCap,
    /// The budget, or its pacing, had no room (or the campaign was paused or ended).
    OverBudget,
}

impl InvalidReason {
    pub const ALL: [InvalidReason; 8] = [
        InvalidReason::OtherKey,
        InvalidReason::OtherSession,
        InvalidReason::Expired,
        InvalidReason::TooFast,
        InvalidReason::Duplicate,
        InvalidReason::SessionCap,
        InvalidReason::KeyCap,
        InvalidReason::OverBudget,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            InvalidReason::OtherKey => "other_key",
            InvalidReason::OtherSession => "other_session",
            InvalidReason::Expired => "expired",
            InvalidReason::TooFast => "too_fast",
            InvalidReason::Duplicate => "duplicate",
            InvalidReason::SessionCap => "session_cap",
            InvalidReason::KeyCap => "key_cap",
            InvalidReason::OverBudget => "over_budget",
        }
    }

    pub(crate) fn parse(s: &str) -> CatResult<InvalidReason> {
        InvalidReason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| CatError::UnknownStored {
                what: "invalid click reason",
                value: s.to_string(),
            })
    }
}

/// A click that was not billed, as kept for the advertiser's report.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidClick {
    pub campaign_id: String,
    pub query_id: String,
    pub reason: InvalidReason,
    /// The key that clicked.
    pub key_name: String,
    /// The session the click claimed.
    pub session_id: Option<String>,
    /// Unix seconds.
    pub at: i64,
}

/// What [`CampaignStore::charge_click`] did (nothing is written but a charge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charged {
    /// Charged: the day's spend grew by the price.
    Yes,
    /// This (query, campaign) was charged before.
    Already,
    /// The price would take the day's spend past the cap, or the campaign is paused or out
    /// of its flight.
    Refused,
    /// The session's billable clicks on the campaign today reached `session_cap`.
    SessionCap,
    /// The key's clicks in the window would cost more than `key_cap_cents`.
    KeyCap,
}

impl Charged {
    /// Why the click was not billed; `None` when it was.
    pub fn refusal(self) -> Option<InvalidReason> {
        match self {
            Charged::Yes => None,
            Charged::Already => Some(InvalidReason::Duplicate),
            Charged::Refused => Some(InvalidReason::OverBudget),
            Charged::SessionCap => Some(InvalidReason::SessionCap),
            Charged::KeyCap => Some(InvalidReason::KeyCap),
        }
    }
}

/// One UTC day of a campaign.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignDay {
    /// UTC days since the Unix epoch.
    pub day: i64,
    /// Ads served.
    pub impressions: u64,
    /// Clicks charged.
    pub clicks: u64,
    pub spend_cents: i64,
    /// Clicks not billed, by reason (each search's clicks counted once per reason).
    pub invalid: BTreeMap<InvalidReason, u64>,
}

pub trait CampaignStore {
    /// Stores a new campaign (its id must be new).
    fn create_campaign(&self, c: &Campaign) -> CatResult<()>;
    /// A campaign with the spend of UTC day `today`.
    fn campaign(&self, id: &str, today: i64) -> CatResult<Option<Campaign>>;
    /// The campaigns of `advertiser` (every campaign for `None`), oldest first, with the spend
    /// of `today`.
    fn campaigns(&self, advertiser: Option<&str>, today: i64) -> CatResult<Vec<Campaign>>;
    /// Pauses or resumes; `false` when there is no such campaign.
    fn set_paused(&self, id: &str, paused: bool) -> CatResult<bool>;
    /// The campaigns live at `now` whose product exists, with the product, its vector and the
    /// spend of `now`'s day.
    fn live_campaigns(&self, now: i64) -> CatResult<Vec<LiveCampaign>>;
    /// Logs the ads a search served.
    fn record_ad_serves(&self, serves: &[AdServe]) -> CatResult<()>;
    /// How many ads of each campaign `session_id` was served on UTC day `day`.
    fn session_serves(&self, session_id: &str, day: i64) -> CatResult<HashMap<String, u32>>;
    /// The ad of `product_id` that search `query_id` served, if it served one.
    fn ad_serve(&self, query_id: &str, product_id: &str) -> CatResult<Option<AdServe>>;
    /// Charges a click, atomically in the database: the click is recorded once per (query,
    /// campaign), the session and key caps are checked, and the day's spend grows only while
    /// `spend + price <= cap` and `<= the daily budget`, all under the lock of the campaign's
    /// day, so that no number of concurrent clicks, from any number of server processes,
    /// passes a cap or overspends.
    fn charge_click(&self, charge: &ClickCharge) -> CatResult<Charged>;
    /// Keeps a click that was not billed (once per campaign, search and reason).
    fn record_invalid_click(&self, click: &InvalidClick) -> CatResult<()>;
    /// The campaign's days with ads served or clicks charged or refused, oldest first.
    fn campaign_days(&self, id: &str) -> CatResult<Vec<CampaignDay>>;
}

/// The UTC day (days since the Unix epoch) of a time in Unix seconds.
pub fn day_of(t: i64) -> i64 {
    t.div_euclid(86_400)
}

/// Joins per-day impressions, (clicks, spend) and (refusal reason, count) into days, oldest
/// first.
pub(crate) fn merge_days(
    impressions: Vec<(i64, i64)>,
    charged: Vec<(i64, i64, i64)>,
    invalid: Vec<(i64, String, i64)>,
) -> CatResult<Vec<CampaignDay>> {
    let mut days: std::collections::BTreeMap<i64, CampaignDay> = Default::default();
    for (day, n) in impressions {
        let d = days.entry(day).or_default();
        d.day = day;
        d.impressions = n as u64;
    }
    for (day, clicks, spend) in charged {
        let d = days.entry(day).or_default();
        d.day = day;
        d.clicks = clicks as u64;
        d.spend_cents = spend;
    }
    for (day, reason, n) in invalid {
        let d = days.entry(day).or_default();
        d.day = day;
        d.invalid.insert(InvalidReason::parse(&reason)?, n as u64);
    }
    Ok(days.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_and_merge_in_order() {
        assert_eq!(day_of(0), 0);
        assert_eq!(day_of(86_399), 0);
        assert_eq!(day_of(86_400), 1);
        assert_eq!(day_of(-1), -1);
        let d = merge_days(
            vec![(5, 10), (3, 4)],
            vec![(5, 2, 80), (7, 1, 40)],
            vec![(8, "too_fast".into(), 3)],
        )
        .unwrap();
        let got: Vec<_> = d
            .iter()
            .map(|d| (d.day, d.impressions, d.clicks, d.spend_cents))
            .collect();
        assert_eq!(
            got,
            [(3, 4, 0, 0), (5, 10, 2, 80), (7, 0, 1, 40), (8, 0, 0, 0)]
        );
        assert_eq!(d[3].invalid[&InvalidReason::TooFast], 3);
        assert!(merge_days(vec![], vec![], vec![(1, "bogus".into(), 1)]).is_err());
        for r in InvalidReason::ALL {
            assert_eq!(InvalidReason::parse(r.as_str()).unwrap(), r);
        }
    }

    #[test]
    fn live_means_unpaused_within_the_flight() {
        let mut c = Campaign {
            id: "cmp_0".into(),
            advertiser: "a".into(),
            name: "n".into(),
            product_id: "p".into(),
            bid_cents: 1,
            daily_budget_cents: 1,
            pacing: Pacing::Asap,
            frequency_cap: 1,
            starts_at: 100,
            ends_at: Some(200),
            paused: false,
            created_at: 0,
            spent_today_cents: 0,
        };
        assert!(!c.is_live(99) && c.is_live(100) && c.is_live(199) && !c.is_live(200));
        c.ends_at = None;
        assert!(c.is_live(1 << 40));
        c.paused = true;
        assert!(!c.is_live(150));
    }
}
