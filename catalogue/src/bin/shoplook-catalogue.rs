//! `shoplook-catalogue`: the catalogue subcommands of `shoplook` as a binary of this crate, so
//! that its integration tests can run the real server and ingest processes
//! (`shoplook-catalogue serve ...` = `shoplook catalogue serve ...`).
//!
//! The command-line front end (clap, progress bars, printing, `lookup`) is the `shoplook`
//! binary's, in `cli/src/catalogue/`; this binary compiles the same files (the library has no
//! command-line code, and cannot depend on the `shoplook` crate, which depends on it).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[path = "../../../cli/src/catalogue/mod.rs"]
mod catalogue;

use catalogue::{CatalogueCommand, LookupArgs};

#[derive(Parser)]
#[command(
    name = "shoplook-catalogue",
    version,
    about = "ShopLook catalogue service"
)]
struct Cli {
    #[command(subcommand)]
    command: Top,
}

#[derive(Subcommand)]
enum Top {
    #[command(flatten)]
    Catalogue(CatalogueCommand),
    /// Analyse a photo here and look every item up in the catalogue.
    Lookup(LookupArgs),
}

fn main() -> ExitCode {
    let command = Cli::parse().command;
    catalogue::init_logging();
    let result = match command {
        Top::Catalogue(c) => catalogue::run(c),
        Top::Lookup(a) => catalogue::run_lookup(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shoplook-catalogue: {e}");
            ExitCode::from(2)
        }
    }
}
