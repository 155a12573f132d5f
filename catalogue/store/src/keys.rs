//! API keys: only the SHA-256 of each secret is stored, with the key's id, name and [`Role`].
//!
//! The id (`key_` + 16 hex digits, made by the store) is what owns campaigns and what
//! `keys revoke` names; the name is a label and need not be unique.

use std::fmt;

use crate::error::CatResult;

/// What a key may do. Every key may search and report events; a role adds to that:
///
/// | role | may also |
/// |---|---|
/// | `App` | (nothing more: the phone apps' keys) |
/// | `Admin` | write the catalogue, see every campaign and every brand's reports |
/// | `Advertiser` | create, list, pause its own campaigns and read their reports |
/// | `Brand { brand }` | read reports about its own brand's products |
///
/// Stored as `role` (`app`, `admin`, `advertiser`, `brand`) plus `brand` (only for `brand`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    App,
    Admin,
    Advertiser,
    Brand { brand: String },
}

/// The role names, as stored, given on the command line and shown.
pub const ROLE_NAMES: [&str; 4] = ["app", "admin", "advertiser", "brand"];

impl Role {
    /// The role's name as stored (`brand` without its brand).
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::App => "app",
            Role::Admin => "admin",
            Role::Advertiser => "advertiser",
            Role::Brand { .. } => "brand",
        }
    }

    /// The brand of a `Brand` key.
    pub fn brand(&self) -> Option<&str> {
        match self {
            Role::Brand { brand } => Some(brand),
            _ => None,
        }
    }

    /// A role from its name and, for `brand`, the brand (1-200 characters, no control
    /// characters). What the stores read back and the CLI parses; anything else is a
    /// [`RoleError`] that says why.
    pub fn parse(name: &str, brand: Option<&str>) -> Result<Role, RoleError> {
        let role = match name {
            "app" => Role::App,
            "admin" => Role::Admin,
            "advertiser" => Role::Advertiser,
            "brand" => {
                let brand = brand.map(str::trim).unwrap_or_default();
                if brand.is_empty()
                    || brand.chars().count() > 200
                    || brand.chars().any(char::is_control)
                {
                    return Err(RoleError::BadBrand);
                }
                return Ok(Role::Brand {
                    brand: brand.to_string(),
                });
            }
            other => return Err(RoleError::Unknown(other.to_string())),
        };
        if brand.is_some() {
            return Err(RoleError::BrandOnOtherRole(name.to_string()));
        }
        Ok(role)
    }
}

/// Why a role (given on the command line, or read back from a store) is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error("unknown role {0:?}: one of {names}", names = ROLE_NAMES.join(", "))]
    Unknown(String),
    #[error("a brand key needs its brand: 1-200 characters, no control characters")]
    BadBrand,
    /// A brand given with another role (the role's name).
    #[error("only brand keys have a brand (role {0})")]
    BrandOnOtherRole(String),
}

impl fmt::Display for Role {
    /// `app`, `admin`, `advertiser`, `brand "Acme"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Brand { brand } => write!(f, "brand {brand:?}"),
            r => f.write_str(r.as_str()),
        }
    }
}

/// An API key as stored (only the hash of the secret is kept).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyInfo {
    /// Unique, made by the store: what owns campaigns and what is revoked.
    pub id: String,
    pub name: String,
    pub role: Role,
}

/// A key as `keys list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRecord {
    pub key: KeyInfo,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; a revoked key is refused.
    pub revoked_at: Option<i64>,
}

/// What [`KeyStore::revoke_key`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// The key was live; it is refused from now on.
    Now,
    /// It had been revoked before (the first time is kept).
    Already,
    /// No key has that id.
    Unknown,
}

/// A key id as the store makes them: `key_` and 16 lowercase hex digits.
pub fn new_key_id() -> String {
    format!("key_{}", crate::random_hex(8))
}

impl KeyInfo {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// May this key read what concerns `brand` (its own brand, compared ignoring ASCII case as
    /// the search filters do; admins see every brand)?
    pub fn may_see_brand(&self, brand: &str) -> bool {
        match &self.role {
            Role::Admin => true,
            Role::Brand { brand: own } => own.eq_ignore_ascii_case(brand),
            _ => false,
        }
    }
}

pub trait KeyStore {
    /// Stores a new key and returns its id ([`new_key_id`]). A hash already stored is refused
    /// (an error); names need not be unique.
    fn create_key(&self, name: &str, key_hash: &str, role: &Role) -> CatResult<String>;
    /// The live key with this hash (`None`: unknown or revoked). Read from the primary, never
    /// a replica or a cache, so a revocation holds at once on every server sharing the store.
    fn find_key(&self, key_hash: &str) -> CatResult<Option<KeyInfo>>;
    /// Every key, revoked ones included, oldest first.
    fn list_keys(&self) -> CatResult<Vec<KeyRecord>>;
    /// Revokes the key `id` at `at` (Unix seconds).
    fn revoke_key(&self, id: &str, at: i64) -> CatResult<Revoked>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_their_stored_form_and_back() {
        for r in [Role::App, Role::Admin, Role::Advertiser] {
            assert_eq!(Role::parse(r.as_str(), None).unwrap(), r);
        }
        let b = Role::parse("brand", Some(" Acme ")).unwrap();
        assert_eq!(b.brand(), Some("Acme"));
        assert_eq!(b.to_string(), "brand \"Acme\"");
        for brand in [None, Some("  "), Some("a\0b")] {
            assert_eq!(Role::parse("brand", brand), Err(RoleError::BadBrand));
        }
        let e = Role::parse("app", Some("Acme")).unwrap_err();
        assert_eq!(e, RoleError::BrandOnOtherRole("app".into()));
        assert_eq!(e.to_string(), "only brand keys have a brand (role app)");
        let e = Role::parse("root", None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown role \"root\": one of app, admin, advertiser, brand"
        );
    }

    #[test]
    fn brand_keys_see_their_own_brand_only() {
        let key = |role| KeyInfo {
            id: new_key_id(),
            name: "k".into(),
            role,
        };
        let acme = key(Role::Brand {
            brand: "Acme".into(),
        });
        assert!(acme.may_see_brand("ACME"));
        assert!(!acme.may_see_brand("Other"));
        assert!(key(Role::Admin).may_see_brand("Other"));
        assert!(!key(Role::Advertiser).may_see_brand("Acme"));
        assert!(!key(Role::App).is_admin());
    }

    #[test]
    fn key_ids_have_their_shape_and_differ() {
        let (a, b) = (new_key_id(), new_key_id());
        assert_ne!(a, b);
        for id in [a, b] {
            assert!(id.starts_with("key_") && id.len() == 20, "{id}");
            assert!(
                id[4..]
                    .bytes()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            );
        }
    }
}
