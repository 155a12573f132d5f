//! [`KeyStore`](crate::KeyStore): keys found by the hash of their secret, with their id and
//! role; listed; revoked.

use super::*;
use crate::Revoked;

pub fn keys_are_found_by_hash(backend: &dyn Backend) {
    let store = backend.open();
    assert_eq!(store.find_key("h-alice").unwrap(), None);
    store.create_key("alice", "h-alice", &Role::App).unwrap();
    store.create_key("root", "h-root", &Role::Admin).unwrap();
    assert_eq!(
        named(store.find_key("h-alice").unwrap()),
        key("alice", Role::App)
    );
    assert_eq!(
        named(store.find_key("h-root").unwrap()),
        key("root", Role::Admin)
    );
    assert_eq!(store.find_key("h-unknown").unwrap(), None);
    assert_eq!(
        store.find_key("alice").unwrap(),
        None,
        "found by hash, not name"
    );
    // A hash is stored once: a second key with it is refused and the first is kept.
    assert!(
        store
            .create_key("mallory", "h-alice", &Role::Admin)
            .is_err()
    );
    assert_eq!(
        named(store.find_key("h-alice").unwrap()),
        key("alice", Role::App)
    );
    // Names need not be unique.
    store
        .create_key("alice", "h-alice-2", &Role::Admin)
        .unwrap();
    assert_eq!(
        named(store.find_key("h-alice-2").unwrap()),
        key("alice", Role::Admin)
    );
    // Every role comes back as it went in, a brand key with its brand.
    let acme = Role::Brand {
        brand: "Acme Shoes".into(),
    };
    store.create_key("ads", "h-ads", &Role::Advertiser).unwrap();
    store.create_key("acme", "h-acme", &acme).unwrap();
    assert_eq!(
        named(store.find_key("h-ads").unwrap()),
        key("ads", Role::Advertiser)
    );
    assert_eq!(named(store.find_key("h-acme").unwrap()), key("acme", acme));
}

pub fn keys_of_every_role_survive_a_reopen(backend: &dyn Backend) {
    let roles = [
        ("phone", Role::App),
        ("ops", Role::Admin),
        ("ads", Role::Advertiser),
        (
            "brand",
            Role::Brand {
                brand: "Élan Paris".into(),
            },
        ),
    ];
    {
        let store = backend.open();
        for (i, (name, role)) in roles.iter().enumerate() {
            store.create_key(name, &format!("h-{i}"), role).unwrap();
        }
    }
    let store = backend.open();
    for (i, (name, role)) in roles.into_iter().enumerate() {
        assert_eq!(
            named(store.find_key(&format!("h-{i}")).unwrap()),
            key(name, role)
        );
    }
    // The hash is matched exactly (it is hex, but the store does not fold case).
    assert_eq!(store.find_key("H-0").unwrap(), None);
}

pub fn keys_have_unique_ids_and_are_listed(backend: &dyn Backend) {
    let store = backend.open();
    assert!(store.list_keys().unwrap().is_empty());
    let a = store.create_key("alice", "h-a", &Role::Advertiser).unwrap();
    let b = store.create_key("alice", "h-b", &Role::Advertiser).unwrap();
    assert_ne!(a, b, "two keys of one name have two ids");
    assert!(a.starts_with("key_") && a.len() == 20, "{a}");
    assert_eq!(store.find_key("h-a").unwrap().unwrap().id, a);
    assert_eq!(store.find_key("h-b").unwrap().unwrap().id, b);
    let listed = store.list_keys().unwrap();
    assert_eq!(listed.len(), 2);
    let mut ids: Vec<&str> = listed.iter().map(|r| r.key.id.as_str()).collect();
    ids.sort();
    let mut want = vec![a.as_str(), b.as_str()];
    want.sort();
    assert_eq!(ids, want);
    let now = crate::now_s();
    for r in &listed {
        assert_eq!(
            (r.key.name.as_str(), &r.key.role),
            ("alice", &Role::Advertiser)
        );
        assert!((now - r.created_at).abs() < 120, "created {}", r.created_at);
        assert_eq!(r.revoked_at, None);
    }
}

pub fn a_revoked_key_is_refused_at_once_by_every_handle(backend: &dyn Backend) {
    // Two handles on one store: two servers sharing it.
    let (one, two) = (backend.open(), backend.open());
    let id = one.create_key("phone", "h-phone", &Role::App).unwrap();
    let other = one.create_key("phone", "h-other", &Role::App).unwrap();
    assert!(two.find_key("h-phone").unwrap().is_some());
    assert_eq!(two.revoke_key(&id, 1_000).unwrap(), Revoked::Now);
    assert_eq!(
        one.find_key("h-phone").unwrap(),
        None,
        "refused by the other handle"
    );
    assert_eq!(two.find_key("h-phone").unwrap(), None);
    assert_eq!(
        one.find_key("h-other").unwrap().map(|k| k.id),
        Some(other),
        "only that key"
    );
    // Revoking again keeps the first time; an unknown id says so.
    assert_eq!(one.revoke_key(&id, 2_000).unwrap(), Revoked::Already);
    assert_eq!(
        one.revoke_key("key_0000000000000000", 2_000).unwrap(),
        Revoked::Unknown
    );
    assert_eq!(
        one.revoke_key("phone", 2_000).unwrap(),
        Revoked::Unknown,
        "ids, not names"
    );
    let listed = one.list_keys().unwrap();
    let revoked = listed.iter().find(|r| r.key.id == id).unwrap();
    assert_eq!(revoked.revoked_at, Some(1_000));
    // A revocation survives a reopen.
    drop((one, two));
    assert_eq!(backend.open().find_key("h-phone").unwrap(), None);
}
