//! The command-line front end as a library, so that both binaries (`shoplook` and the
//! catalogue's own `shoplook-catalogue`) share it: flags (clap), progress bars and printing.
//! The catalogue libraries below (`shoplook-store`, `-domain`, `-http`, `-tools`) do the work
//! and return values.

pub mod catalogue;
pub mod error;
