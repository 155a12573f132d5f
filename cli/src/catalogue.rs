//! `shoplook catalogue ...` (ingest, serve, keys, stats, eval) and `shoplook lookup`: the
//! catalogue lookup service, implemented in the `shoplook-catalogue` crate.

pub use shoplook_catalogue::cli::{CatalogueCommand, LookupArgs};

pub fn run(command: CatalogueCommand) -> Result<(), String> {
    shoplook_catalogue::cli::run_catalogue(command)
}

pub fn lookup(args: LookupArgs) -> Result<(), String> {
    shoplook_catalogue::cli::run_lookup(args)
}
