//! What a campaign looks like through the API: its status and its report (impressions, billed
//! clicks, spend, click rate and the invalid clicks by reason, per UTC day and in total).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::store::campaigns::{Campaign, CampaignDay, InvalidReason};

/// `paused`, `scheduled` (before its start), `ended` (at or after its end) or `active`.
pub fn status(c: &Campaign, now: i64) -> &'static str {
    if c.paused {
        "paused"
    } else if now < c.starts_at {
        "scheduled"
    } else if c.ends_at.is_some_and(|e| e <= now) {
        "ended"
    } else {
        "active"
    }
}

/// A campaign as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignView {
    pub id: String,
    pub advertiser: String,
    pub name: String,
    pub product_id: String,
    pub bid_cents: i64,
    pub daily_budget_cents: i64,
    pub currency: String,
    pub pacing: &'static str,
    pub frequency_cap: u32,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    pub status: &'static str,
    pub spent_today_cents: i64,
    pub created_at: i64,
}

impl CampaignView {
    pub fn new(c: &Campaign, now: i64, currency: &str) -> Self {
        CampaignView {
            id: c.id.clone(),
            advertiser: c.advertiser.clone(),
            name: c.name.clone(),
            product_id: c.product_id.clone(),
            bid_cents: c.bid_cents,
            daily_budget_cents: c.daily_budget_cents,
            currency: currency.to_string(),
            pacing: c.pacing.as_str(),
            frequency_cap: c.frequency_cap,
            starts_at: c.starts_at,
            ends_at: c.ends_at,
            status: status(c, now),
            spent_today_cents: c.spent_today_cents,
            created_at: c.created_at,
        }
    }
}

/// Figures of one day or of the whole campaign.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Ads served.
    pub impressions: u64,
    /// Valid clicks, charged (once per search).
    pub clicks: u64,
    pub spend_cents: i64,
    /// `clicks / impressions` (0 without impressions).
    pub click_rate: f64,
    /// Clicks not charged, and why.
    pub invalid_clicks: InvalidClicks,
}

/// Clicks not charged (`ads::fraud`): each search's counted once per reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvalidClicks {
    pub total: u64,
    /// Every reason, 0 where none.
    pub by_reason: BTreeMap<&'static str, u64>,
}

impl Default for InvalidClicks {
    fn default() -> Self {
        InvalidClicks::new(&BTreeMap::new())
    }
}

impl InvalidClicks {
    fn new(counts: &BTreeMap<InvalidReason, u64>) -> Self {
        InvalidClicks {
            total: counts.values().sum(),
            by_reason: InvalidReason::ALL
                .iter()
                .map(|r| (r.as_str(), counts.get(r).copied().unwrap_or(0)))
                .collect(),
        }
    }
}

impl Figures {
    fn new(
        impressions: u64,
        clicks: u64,
        spend_cents: i64,
        invalid: &BTreeMap<InvalidReason, u64>,
    ) -> Self {
        Figures {
            impressions,
            clicks,
            spend_cents,
            click_rate: if impressions == 0 {
                0.0
            } else {
                clicks as f64 / impressions as f64
            },
            invalid_clicks: InvalidClicks::new(invalid),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Day {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// `GET /v1/campaigns/{id}/report`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub campaign_id: String,
    pub currency: String,
    /// Days with ads served or clicks charged or refused, oldest first.
    pub days: Vec<Day>,
    pub total: Figures,
}

impl Report {
    pub fn new(campaign_id: &str, currency: &str, days: &[CampaignDay]) -> Self {
        let sum = |f: fn(&CampaignDay) -> u64| days.iter().map(f).sum::<u64>();
        let mut invalid = BTreeMap::new();
        for (reason, n) in days.iter().flat_map(|d| &d.invalid) {
            *invalid.entry(*reason).or_insert(0) += n;
        }
        Report {
            campaign_id: campaign_id.to_string(),
            currency: currency.to_string(),
            days: days
                .iter()
                .map(|d| Day {
                    date: crate::iso_date(d.day),
                    figures: Figures::new(d.impressions, d.clicks, d.spend_cents, &d.invalid),
                })
                .collect(),
            total: Figures::new(
                sum(|d| d.impressions),
                sum(|d| d.clicks),
                days.iter().map(|d| d.spend_cents).sum(),
                &invalid,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_sums_its_days() {
        let days = [
            CampaignDay {
                day: 20_423,
                impressions: 4,
                clicks: 1,
                spend_cents: 30,
                invalid: BTreeMap::from([(InvalidReason::TooFast, 3)]),
            },
            CampaignDay {
                day: 20_424,
                impressions: 0,
                clicks: 2,
                spend_cents: 60,
                invalid: BTreeMap::from([(InvalidReason::TooFast, 1), (InvalidReason::KeyCap, 2)]),
            },
        ];
        let r = Report::new("cmp_1", "EUR", &days);
        assert_eq!(r.days[0].date, "2025-12-01");
        assert_eq!(r.days[0].figures.click_rate, 0.25);
        assert_eq!(r.days[1].figures.click_rate, 0.0);
        let total_invalid =
            BTreeMap::from([(InvalidReason::TooFast, 4), (InvalidReason::KeyCap, 2)]);
        assert_eq!(r.total, Figures::new(4, 3, 90, &total_invalid));
        assert_eq!(r.total.click_rate, 0.75);
        let json = serde_json::to_value(&r.total.invalid_clicks).unwrap();
        assert_eq!(json["total"], 6);
        assert_eq!(json["by_reason"]["too_fast"], 4);
        assert_eq!(
            json["by_reason"]["other_session"], 0,
            "every reason is listed"
        );
    }
}
