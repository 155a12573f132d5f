//! `serve`'s sponsored-product flags (`shoplook_domain::ads::AdsConfig`).

use clap::Args;
use shoplook_domain::ads::AdsConfig;

use crate::error::{CliResult, FlagError};

#[derive(Args, Debug, Clone)]
pub struct AdArgs {
    /// 1-based positions of the ad slots in a result list, comma-separated (`1,5`); `none`
    /// serves no ads. A slot past k, or one that would leave no organic result, stays empty.
    #[arg(long, default_value = "1", value_name = "LIST")]
    pub ad_positions: String,
    /// Relevance floor: an ad's product must be at least this similar (cosine) to the query.
    #[arg(long, default_value_t = AdsConfig::default().min_similarity)]
    pub ad_min_similarity: f32,
    /// Least price of a click, in cents; lower bids do not take part.
    #[arg(long, default_value_t = AdsConfig::default().reserve_cents)]
    pub ad_reserve_cents: i64,
    /// Ads of one campaign per app session per UTC day, for campaigns that set none.
    #[arg(long, default_value_t = AdsConfig::default().frequency_cap)]
    pub ad_frequency_cap: u32,
    /// Seconds ahead of the clock that even pacing lets a campaign spend.
    #[arg(long, default_value_t = AdsConfig::default().pacing_slack_s)]
    pub ad_pacing_slack: i64,
    /// The currency of bids and budgets (ISO 4217; amounts are in its minor units).
    #[arg(long, default_value_t = AdsConfig::default().currency)]
    pub ad_currency: String,
}

impl AdArgs {
    pub fn config(&self) -> CliResult<AdsConfig> {
        let positions = match self.ad_positions.trim() {
            "none" | "" => Vec::new(),
            list => {
                let mut p = list
                    .split(',')
                    .map(|s| s.trim().parse::<usize>().ok().filter(|&p| p >= 1))
                    .collect::<Option<Vec<usize>>>()
                    .ok_or(FlagError::AdPositions)?;
                p.sort_unstable();
                p.dedup();
                p
            }
        };
        if !(-1.0..=1.0).contains(&self.ad_min_similarity) {
            return Err(FlagError::AdMinSimilarity.into());
        }
        if self.ad_reserve_cents < 1 {
            return Err(FlagError::AdReserveCents.into());
        }
        if self.ad_frequency_cap < 1 {
            return Err(FlagError::AdFrequencyCap.into());
        }
        if !(0..=86_400).contains(&self.ad_pacing_slack) {
            return Err(FlagError::AdPacingSlack.into());
        }
        let c = self.ad_currency.trim();
        if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(FlagError::AdCurrency.into());
        }
        Ok(AdsConfig {
            positions,
            min_similarity: self.ad_min_similarity,
            reserve_cents: self.ad_reserve_cents,
            frequency_cap: self.ad_frequency_cap,
            pacing_slack_s: self.ad_pacing_slack,
            currency: c.to_string(),
            ..AdsConfig::default()
        })
    }
}
