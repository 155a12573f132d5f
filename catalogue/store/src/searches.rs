//! The search log: what each search was and what it showed, for learning from shoppers
//! (`shoplook_domain::learn`). Private by construction: a search is logged with the API key's name and
//! the SDK's random per-app-session id (never a device or user id), and no photo ever reaches
//! the service (only the embedding). Both logs (searches and events) are kept for a bounded
//! time: [`purge_older_than`] deletes what is older than the retention.

use shoplook_core::wire::{Event, Ranking};

use crate::error::{CatError, CatResult, Invalid};

/// Default retention of the search and event logs.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;

/// A search as logged by the API.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRecord {
    pub query_id: String,
    /// Name of the API key that searched.
    pub key_name: String,
    /// The SDK's per-app-session id, if it sent one.
    pub session_id: Option<String>,
    pub category: Option<String>,
    /// The ranking that ordered the results.
    pub ranking: Ranking,
    /// The query embedding (unit length).
    pub embedding: Vec<f32>,
    /// Product ids in the order shown: `shown[i]` was at position `i + 1`.
    pub shown: Vec<String>,
}

/// A search as read back from the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedSearch {
    /// Position in the log (as [`super::LoggedEvent::seq`]): increasing in commit order, never
    /// reused, also after a purge.
    pub seq: u64,
    /// When it was logged, Unix seconds (the store's clock).
    pub at: i64,
    pub search: SearchRecord,
}

/// What a purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    pub searches: u64,
    pub events: u64,
}

/// Append-only log of searches, readable from a cursor, with the retention purge of both logs.
pub trait SearchLog {
    /// Logs a search. A `query_id` already logged is refused (an error).
    fn record_search(&self, search: &SearchRecord) -> CatResult<()>;
    /// Up to `limit` searches with `seq > after`, in `seq` order (the cursor contract of
    /// [`super::EventLog::events_since`]).
    fn searches_since(&self, after: u64, limit: usize) -> CatResult<Vec<LoggedSearch>>;
    /// Deletes the searches and events logged before `cutoff` (Unix seconds). Sequence numbers
    /// are not reused afterwards, so cursors stay valid.
    fn purge_before(&self, cutoff: i64) -> CatResult<Purged>;
}

/// Deletes what is older than `retention_days` at `now` (Unix seconds).
pub fn purge_older_than(
    log: &(impl SearchLog + ?Sized),
    retention_days: u32,
    now: i64,
) -> CatResult<Purged> {
    log.purge_before(retention_cutoff(retention_days, now))
}

/// The oldest time kept by a retention of `days` at `now`.
pub fn retention_cutoff(days: u32, now: i64) -> i64 {
    now - i64::from(days) * 86_400
}

/// A session id as the SDK makes them: 8-64 characters of `[A-Za-z0-9_-]`.
pub fn check_session_id(id: &str) -> CatResult<()> {
    if !(8..=64).contains(&id.len())
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(CatError::Invalid(Invalid::SessionId));
    }
    Ok(())
}

/// Checks the learning fields of an event (`position`, `session_id`, `query_id`).
pub fn check_event(e: &Event) -> CatResult<()> {
    if let Some(s) = &e.session_id {
        check_session_id(s)?;
    }
    if let Some(p) = e.position
        && !(1..=1000).contains(&p)
    {
        return Err(CatError::Invalid(Invalid::Position(p)));
    }
    if let Some(q) = &e.query_id
        && (!(1..=64).contains(&q.len())
            || !q
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        return Err(CatError::Invalid(Invalid::QueryId));
    }
    Ok(())
}

/// The ranking as stored.
pub(crate) fn parse_ranking(s: &str) -> Ranking {
    if s == "learned" {
        Ranking::Learned
    } else {
        Ranking::Visual
    }
}

/// The shown list as stored (a JSON array of ids).
pub(crate) fn shown_to_text(shown: &[String]) -> String {
    serde_json::to_string(shown).expect("strings serialise")
}

pub(crate) fn shown_from_text(s: &str) -> CatResult<Vec<String>> {
    serde_json::from_str(s).map_err(CatError::stored_json("shown list"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_cutoff_is_days_before_now() {
        assert_eq!(retention_cutoff(90, 100 * 86_400), 10 * 86_400);
        assert_eq!(retention_cutoff(0, 5), 5);
    }

    #[test]
    fn session_ids_are_random_tokens() {
        assert!(check_session_id("a1b2c3d4").is_ok());
        assert!(check_session_id(&"x".repeat(64)).is_ok());
        for bad in ["short", "", "has space!", "ümlaut12", &"x".repeat(65)] {
            assert!(check_session_id(bad).is_err(), "{bad:?}");
        }
    }
}
