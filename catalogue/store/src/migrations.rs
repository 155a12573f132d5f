//! Versioned, forward-only schema migrations, shared by both stores.
//!
//! Each store keeps an ordered list of [`Migration`]s numbered 1, 2, 3...; the database
//! records the number of the last one applied (SQLite: `PRAGMA user_version`; PostgreSQL: the
//! one-row `schema_version` table). Opening a store applies the missing ones in order, each in
//! its own transaction together with the new version number, so a failure leaves the database
//! at the last version that completed. A database whose version is past the end of the list
//! was written by a newer release and is refused ([`MigrationError::TooNew`]): this release
//! cannot know what the newer one changed.
//!
//! Version 0 means "no version recorded": a new, empty database, or one written by a release
//! that predates versions. Migration 1 of each store handles both (see `sqlite/migrations.rs`
//! and `postgres/migrations.rs`).

use crate::error::CatError;

/// One step of a store's schema: `apply` runs inside the transaction that also records
/// `version`. `Step` is the store's function type (it takes the store's transaction).
pub(crate) struct Migration<Step> {
    pub(crate) version: u32,
    /// What it changes, for error messages.
    pub(crate) name: &'static str,
    pub(crate) apply: Step,
}

/// Why a store's schema could not be brought to the version this release uses.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// The database records a schema version past this release's last migration.
    #[error(
        "the {store} database has schema version {found}, newer than this release knows \
         ({latest}): it was written by a newer release of the catalogue; run that release (or \
         a newer one), or restore a backup made before the upgrade"
    )]
    TooNew {
        store: &'static str,
        found: i64,
        latest: u32,
    },
    /// Migration `version` failed; the database stays at the version before it.
    #[error("{store} schema migration {version} ({name}) failed: {source}")]
    Failed {
        store: &'static str,
        version: u32,
        name: &'static str,
        #[source]
        source: Box<CatError>,
    },
}

impl MigrationError {
    pub(crate) fn failed<S>(
        store: &'static str,
        m: &Migration<S>,
    ) -> impl FnOnce(CatError) -> CatError {
        let (version, name) = (m.version, m.name);
        move |source| {
            MigrationError::Failed {
                store,
                version,
                name,
                source: Box::new(source),
            }
            .into()
        }
    }
}

/// The migration to apply to a database at version `found`: `None` when it is up to date,
/// [`MigrationError::TooNew`] when it is past the end of `migrations`.
pub(crate) fn next<'m, S>(
    store: &'static str,
    found: i64,
    migrations: &'m [Migration<S>],
) -> Result<Option<&'m Migration<S>>, MigrationError> {
    let latest = latest(migrations);
    match usize::try_from(found) {
        Ok(applied) if applied <= migrations.len() => {
            let next = migrations.get(applied);
            // The list is numbered 1, 2, 3... in order: the version is the position.
            debug_assert!(next.is_none_or(|m| m.version as usize == applied + 1));
            Ok(next)
        }
        _ => Err(MigrationError::TooNew {
            store,
            found,
            latest,
        }),
    }
}

/// The version a database has once every migration in `migrations` is applied.
pub(crate) const fn latest<S>(migrations: &[Migration<S>]) -> u32 {
    migrations.len() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> Vec<Migration<()>> {
        (1..=3)
            .map(|version| Migration {
                version,
                name: "step",
                apply: (),
            })
            .collect()
    }

    #[test]
    fn the_next_migration_is_the_one_after_the_recorded_version() {
        let list = list();
        for found in 0..3 {
            let m = next("test", found, &list).unwrap().unwrap();
            assert_eq!(i64::from(m.version), found + 1);
        }
        assert!(next("test", 3, &list).unwrap().is_none(), "up to date");
        assert_eq!(latest(&list), 3);
    }

    #[test]
    fn a_version_past_the_list_or_negative_is_refused() {
        let list = list();
        for found in [4, 1000, -1] {
            match next("test", found, &list) {
                Err(MigrationError::TooNew {
                    store: "test",
                    found: f,
                    latest: 3,
                }) => assert_eq!(f, found),
                other => panic!("version {found}: {:?}", other.map(|m| m.map(|m| m.version))),
            }
        }
        let Err(e) = next("sqlite", 9, &list) else {
            panic!("version 9 of 3 accepted");
        };
        let e = e.to_string();
        assert!(
            e.starts_with(
                "the sqlite database has schema version 9, newer than this release knows (3)"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_failed_migration_says_which_and_keeps_its_source() {
        use std::error::Error;

        let list = list();
        let e = MigrationError::failed("postgres", &list[1])(CatError::NotFound(
            crate::Missing::StoredProduct("x".into()),
        ));
        assert_eq!(
            e.to_string(),
            "store: postgres schema migration 2 (step) failed: not found: x"
        );
        let migration = e.source().expect("the migration error");
        assert!(migration.downcast_ref::<MigrationError>().is_some());
        let inner = migration.source().expect("the failure underneath");
        assert_eq!(inner.to_string(), "not found: x");
    }
}
