//! `catalogue keys list` and `keys revoke`: what the operator sees of the keys (ids, names,
//! roles, dates; never a secret, only hashes are stored).

use serde_json::json;
use shoplook_domain::iso_date;
use shoplook_domain::store::campaigns::day_of;
use shoplook_domain::store::{KeyRecord, Revoked, Store};

use crate::error::{CliError, CliResult};

/// The keys as a table (or JSON Lines with `json`), oldest first.
pub fn listing(keys: &[KeyRecord], json: bool) -> String {
    let day = |s: i64| iso_date(day_of(s));
    if json {
        return keys
            .iter()
            .map(|r| {
                json!({
                    "id": r.key.id,
                    "name": r.key.name,
                    "role": r.key.role.as_str(),
                    "brand": r.key.role.brand(),
                    "created_at": r.created_at,
                    "revoked_at": r.revoked_at,
                })
                .to_string()
                    + "\n"
            })
            .collect();
    }
    let mut out = format!(
        "{:<20}  {:<10}  {:<10}  {:<10}  name\n",
        "id", "role", "created", "revoked"
    );
    for r in keys {
        let revoked = r.revoked_at.map_or_else(|| "-".to_string(), day);
        // Debug formatting quotes the name and escapes control characters: a name cannot
        // forge lines of the table.
        out += &format!(
            "{:<20}  {:<10}  {:<10}  {:<10}  {:?}{}\n",
            r.key.id,
            r.key.role.as_str(),
            day(r.created_at),
            revoked,
            r.key.name,
            r.key
                .role
                .brand()
                .map(|b| format!(" (brand {b:?})"))
                .unwrap_or_default(),
        );
    }
    out
}

/// Revokes the key `id`; an unknown id is an error (nothing changes), a key revoked before
/// is said so.
pub fn revoke(store: &dyn Store, id: &str) -> CliResult<()> {
    match store.revoke_key(id, shoplook_domain::now_s())? {
        Revoked::Now => eprintln!("revoked key {id}: every server sharing this store refuses it"),
        Revoked::Already => eprintln!("key {id} was revoked before; nothing changed"),
        Revoked::Unknown => {
            return Err(CliError::UnknownKey { id: id.to_string() });
        }
    }
    Ok(())
}
