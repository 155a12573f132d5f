//! Trend reports for brands: what shoppers search for, tap and buy, by day or week, category,
//! brand, product and price band, plus the week's rising looks, with every published figure
//! counting at least `k` distinct sessions (see `docs/console.md` for the threat model).
//!
//! - `counted.rs`: which logged activity counts (events tied to a search, known categories).
//! - `cells.rs`: activity rows -> cells, one independent component per measure and week.
//! - `privacy.rs`: primary and complementary suppression of a component.
//! - `guard.rs`: the linear-algebra check of what a component publishes.
//! - `looks.rs`: clusters of a week's query embeddings.
//! - `noise.rs`: optional Laplace noise on the published counts.
//! - `report.rs`: the viewer's rows, growth, top and rising products.
//! - `export.rs`: the CSV form, with spreadsheet formulas neutralised.
//! - `query.rs`: a report's parameters, and who may read it.
//!
//! Only completed weeks are reported, and only those the log retention has not started to
//! purge: a reported cell never changes afterwards, so reports made at different times give
//! nothing away by their difference.

pub mod cells;
pub mod counted;
pub mod demo;
pub mod export;
pub mod guard;
pub mod looks;
pub mod noise;
pub mod privacy;
pub mod query;
pub mod report;

pub use crate::store::trends::{Activity, ActivityKind, ProductFacts, QueryVector};
pub use query::{AccessError, Format, QueryError, parse_query, viewer_of};
pub use report::{Report, Row, build_report};

/// Default privacy threshold: distinct sessions per published cell.
pub const DEFAULT_K: usize = 20;
/// Least privacy threshold a server may be given (one session alone is never a crowd).
pub const MIN_K: usize = 2;
/// Most weeks a report covers.
pub const MAX_WEEKS: u32 = 12;

/// Days or weeks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Day,
    Week,
}

/// What a report is asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendQuery {
    pub granularity: Granularity,
    /// How many of the most recent completed days or weeks.
    pub period: u32,
    pub category: Option<String>,
    pub brand: Option<String>,
}

/// Who reads the report: an admin key sees every row; a brand key its brand's rows and the
/// market-level rows (category and price band).
#[derive(Debug, Clone, PartialEq)]
pub enum Viewer {
    Admin,
    Brand(String),
}

/// The privacy settings of the reports: plain values, filled once when the server starts
/// (`shoplook catalogue serve` reads them from its environment) and held by the HTTP app.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendsConfig {
    /// Distinct sessions a published cell counts at least.
    pub k: usize,
    /// Laplace noise of scale `1 / epsilon` on every published count (`None`: exact counts).
    pub epsilon: Option<f64>,
    /// Days the logs are kept: a week the purge has started on is not reported.
    pub retention_days: u32,
}

impl Default for TrendsConfig {
    fn default() -> Self {
        TrendsConfig {
            k: DEFAULT_K,
            epsilon: None,
            retention_days: crate::store::searches::DEFAULT_RETENTION_DAYS,
        }
    }
}

impl TrendsConfig {
    /// The defaults with a server's own settings: `k` if at least [`MIN_K`], `epsilon` if a
    /// finite number > 0; a setting outside that is ignored, the default stays.
    pub fn with_settings(k: Option<usize>, epsilon: Option<f64>) -> Self {
        TrendsConfig {
            k: k.filter(|k| *k >= MIN_K).unwrap_or(DEFAULT_K),
            epsilon: epsilon.filter(|e| e.is_finite() && *e > 0.0),
            ..TrendsConfig::default()
        }
    }
}

/// The completed weeks (Mondays, oldest first) that may be reported at `now`: at most
/// [`MAX_WEEKS`] + 1 (the extra, oldest week is the base of the first week's growth).
pub fn reportable_weeks(now: i64, retention_days: u32) -> Vec<i64> {
    let today = now.div_euclid(86_400);
    let current = cells::week_of(today);
    let oldest_kept = now - i64::from(retention_days) * 86_400;
    (1..=i64::from(MAX_WEEKS) + 1)
        .map(|i| current - 7 * i)
        .filter(|w| w * 86_400 >= oldest_kept)
        .rev()
        .collect()
}

pub use crate::iso_date;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_date(20_787), "2026-11-30");
        assert_eq!(iso_date(11_016), "2000-02-29");
        assert_eq!(iso_date(59), "1970-03-01");
        assert_eq!(iso_date(-1), "1969-12-31");
    }

    #[test]
    fn settings_outside_their_range_leave_the_defaults() {
        let c = TrendsConfig::with_settings(Some(5), Some(0.5));
        assert_eq!((c.k, c.epsilon), (5, Some(0.5)));
        for (k, e) in [
            (Some(1), Some(0.0)),
            (None, Some(f64::NAN)),
            (Some(0), Some(-1.0)),
        ] {
            assert_eq!(TrendsConfig::with_settings(k, e), TrendsConfig::default());
        }
    }

    #[test]
    fn only_completed_weeks_inside_the_retention() {
        // Wednesday 2026-12-02 12:00 UTC.
        let now = 20_789 * 86_400 + 43_200;
        let weeks = reportable_weeks(now, 90);
        assert_eq!(weeks.len(), 12);
        assert_eq!(*weeks.last().unwrap(), 20_787 - 7);
        let short = reportable_weeks(now, 20);
        // 20 days back is 2026-11-12: the weeks of 11-16 and 11-23 are whole.
        assert_eq!(short, vec![20_787 - 14, 20_787 - 7]);
    }
}
