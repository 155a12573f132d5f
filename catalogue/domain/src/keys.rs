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

/// Creates a key with its role, stores its hash, returns the secret (to be printed once).
pub fn create_key(store: &dyn Store, name: &str, role: &Role) -> CatResult<String> {
    let secret = format!("{KEY_PREFIX}{}", crate::random_hex(32));
    store.create_key(name, &hash_key(&secret), role)?;
    Ok(secret)
}

pub fn hash_key(secret: &str) -> String {
    crate::sha256_hex(secret.as_bytes())
}

/// Looks keys up, caching answers briefly so a search costs no extra query.
pub struct KeyCache {
    ttl: Duration,
    cache: Mutex<HashMap<String, (Instant, Option<KeyInfo>)>>,
}

impl KeyCache {
    pub fn new(ttl: Duration) -> Self {
        KeyCache {
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The key's record, or `None` for an unknown key.
    pub fn lookup(&self, store: &dyn Store, secret: &str) -> CatResult<Option<(String, KeyInfo)>> {
        if !secret.starts_with(KEY_PREFIX) || secret.len() > 200 {
            return Ok(None);
        }
        let hash = hash_key(secret);
        if let Some((at, info)) = self.cache.lock().unwrap().get(&hash)
            && at.elapsed() < self.ttl
        {
            return Ok(info.clone().map(|i| (hash.clone(), i)));
        }
        let info = store.find_key(&hash)?;
        let mut cache = self.cache.lock().unwrap();
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(hash.clone(), (Instant::now(), info.clone()));
        Ok(info.map(|i| (hash, i)))
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
