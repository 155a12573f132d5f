//! API keys: only the SHA-256 of each secret is stored.

use crate::error::CatResult;

/// An API key as stored (only the hash of the secret is kept).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyInfo {
    pub name: String,
    pub admin: bool,
}

pub trait KeyStore {
    /// Stores a new key. A hash already stored is refused (an error); names need not be unique.
    fn create_key(&self, name: &str, key_hash: &str, admin: bool) -> CatResult<()>;
    fn find_key(&self, key_hash: &str) -> CatResult<Option<KeyInfo>>;
}
