//! `shoplook-catalogue`: the catalogue subcommands of `shoplook` as a binary of their own, so
//! that the catalogue's integration tests and scripts can run the real server and ingest
//! processes (`shoplook-catalogue serve ...` = `shoplook catalogue serve ...`). Both binaries
//! call the same front end, `shoplook_cli::catalogue`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use shoplook_cli::catalogue::{self, CatalogueCommand, LookupArgs};

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
