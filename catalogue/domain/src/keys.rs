//! API keys, their roles ([`Role`]) and per-key rate limits (the key logic; the HTTP
//! extractors that use it, `ApiKey` and `RequireRole<..>`, are in `http::extract`).
//!
//! Keys are 256-bit random secrets (`slk_` + 64 hex digits), shown once when created; only
//! their SHA-256 is stored. A plain (unsalted, fast) hash is enough for secrets of this
//! entropy: nothing can be guessed from it, and it lets a lookup be one indexed query.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::CatResult;
use crate::store::{KeyInfo, Store};

pub use crate::store::keys::{ROLE_NAMES, Role};

pub const KEY_PREFIX: &str = "slk_";

/// A key just made: its id (listed, revoked, owning campaigns) and its secret (shown once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedKey {
    pub id: String,
    pub secret: String,
}

/// Creates a key with its role, stores its hash, returns its id and secret.
pub fn issue_key(store: &dyn Store, name: &str, role: &Role) -> CatResult<IssuedKey> {
    let secret = format!("{KEY_PREFIX}{}", crate::random_hex(32));
    let id = store.create_key(name, &hash_key(&secret), role)?;
    Ok(IssuedKey { id, secret })
}

/// [`issue_key`]'s secret alone.
pub fn create_key(store: &dyn Store, name: &str, role: &Role) -> CatResult<String> {
    Ok(issue_key(store, name, role)?.secret)
}

pub fn hash_key(secret: &str) -> String {
    crate::sha256_hex(secret.as_bytes())
}

/// Looks keys up. A live key is read from the store on every request (one indexed query on
/// the primary), so a revoked key is refused at once by every server; only "no such key" is
/// kept for `ttl`, so a flood of made-up keys costs the store one query each per `ttl` at
/// most (a key created meanwhile is refused for up to `ttl` by a server that saw it missing).
pub struct KeyCache {
    ttl: Duration,
    /// Hashes found missing, and when.
    missing: Mutex<HashMap<String, Instant>>,
}

impl KeyCache {
    pub fn new(ttl: Duration) -> Self {
        KeyCache {
            ttl,
            missing: Mutex::new(HashMap::new()),
        }
    }

    /// The key's record, or `None` for an unknown key.
    pub fn lookup(&self, store: &dyn Store, secret: &str) -> CatResult<Option<(String, KeyInfo)>> {
        if !secret.starts_with(KEY_PREFIX) || secret.len() > 200 {
            return Ok(None);
        }
        let hash = hash_key(secret);
        if let Some(at) = self.missing.lock().unwrap().get(&hash)
            && at.elapsed() < self.ttl
        {
            return Ok(None);
        }
        let Some(info) = store.find_key(&hash)? else {
            let mut missing = self.missing.lock().unwrap();
            if missing.len() > 10_000 {
                missing.clear();
            }
            missing.insert(hash, Instant::now());
            return Ok(None);
        };
        Ok(Some((hash, info)))
    }
}

/// Token bucket per key: `rate` requests a second on average, bursts up to `burst`.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(rate: f64, burst: f64) -> Self {
        RateLimiter {
            rate,
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok(())` if the request may go ahead, else `Err(seconds to wait)`.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap();
        let (tokens, at) = buckets.entry(key.to_string()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_refuses() {
        let l = RateLimiter::new(1.0, 3.0);
        assert!(l.check("a").is_ok());
        assert!(l.check("a").is_ok());
        assert!(l.check("a").is_ok());
        assert_eq!(l.check("a"), Err(1));
        assert!(l.check("b").is_ok());
    }
}
