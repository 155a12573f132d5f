//! The event log: impressions, clicks and purchases as the apps report them, append-only.
//! Learned ranking, ad billing and trend reports read it from a cursor with
//! [`EventLog::events_since`], each keeping the `seq` of the last event it processed.

use shoplook_core::wire::{Event, EventType};

use crate::error::{CatError, CatResult};

/// An event as logged.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    /// Position in the log: unique, increasing in the order events were committed, never
    /// reused. The cursor of [`EventLog::events_since`].
    pub seq: u64,
    /// When it was logged, Unix seconds (the store's clock).
    pub at: i64,
    /// Name of the API key that reported it.
    pub key_name: String,
    pub event: Event,
}

/// Append-only log of events, readable from a cursor.
pub trait EventLog {
    /// Appends an event; `false` (nothing written) when it is a duplicate: the same key, type,
    /// `query_id` and product as an event logged before (events without a `query_id` are
    /// always appended).
    fn record_event(&self, event: &Event, key_name: &str) -> CatResult<bool>;
    /// Up to `limit` events with `seq > after`, in `seq` order. Start with `after = 0`, then
    /// pass the `seq` of the last event received. An event committed after a call returned
    /// always gets a larger `seq` than every event that call could see, so a reader that
    /// follows the cursor misses none and sees none twice.
    fn events_since(&self, after: u64, limit: usize) -> CatResult<Vec<LoggedEvent>>;
}

/// The event type as stored (`impression`, `click`, `purchase`).
pub(crate) fn parse_event_type(s: &str) -> CatResult<EventType> {
    Ok(match s {
        "impression" => EventType::Impression,
        "click" => EventType::Click,
        "purchase" => EventType::Purchase,
        _ => {
            return Err(CatError::UnknownStored {
                what: "event type",
                value: s.to_string(),
            });
        }
    })
}

/// SQL integers are signed: a cursor or limit beyond `i64::MAX` means "all".
pub(crate) fn sql_int(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}
