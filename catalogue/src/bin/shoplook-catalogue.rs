//! `shoplook-catalogue`: the catalogue subcommands of `shoplook` as a binary of this crate, so
//! that its integration tests can run the real server and ingest processes
//! (`shoplook-catalogue serve ...` = `shoplook catalogue serve ...`).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shoplook_catalogue::cli::{CatalogueCommand, LookupArgs, run_catalogue, run_lookup};

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
    let result = match Cli::parse().command {
        Top::Catalogue(c) => run_catalogue(c),
        Top::Lookup(a) => run_lookup(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shoplook-catalogue: {e}");
            ExitCode::from(2)
        }
    }
}
