//! [`KeyStore`](crate::KeyStore): keys found by the hash of their secret, with their role.

use super::*;

pub fn keys_are_found_by_hash(backend: &dyn Backend) {
    let store = backend.open();
    assert_eq!(store.find_key("h-alice").unwrap(), None);
    store.create_key("alice", "h-alice", &Role::App).unwrap();
    store.create_key("root", "h-root", &Role::Admin).unwrap();
    assert_eq!(store.find_key("h-alice").unwrap(), key("alice", Role::App));
    assert_eq!(store.find_key("h-root").unwrap(), key("root", Role::Admin));
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
    assert_eq!(store.find_key("h-alice").unwrap(), key("alice", Role::App));
    // Names need not be unique.
    store
        .create_key("alice", "h-alice-2", &Role::Admin)
        .unwrap();
    assert_eq!(
        store.find_key("h-alice-2").unwrap(),
        key("alice", Role::Admin)
    );
    // Every role comes back as it went in, a brand key with its brand.
    let acme = Role::Brand {
        brand: "Acme Shoes".into(),
    };
    store.create_key("ads", "h-ads", &Role::Advertiser).unwrap();
    store.create_key("acme", "h-acme", &acme).unwrap();
    assert_eq!(
        store.find_key("h-ads").unwrap(),
        key("ads", Role::Advertiser)
    );
    assert_eq!(store.find_key("h-acme").unwrap(), key("acme", acme));
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
        assert_eq!(store.find_key(&format!("h-{i}")).unwrap(), key(name, role));
    }
    // The hash is matched exactly (it is hex, but the store does not fold case).
    assert_eq!(store.find_key("H-0").unwrap(), None);
}
