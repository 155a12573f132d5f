//! `catalogue seed-events --demo`: fills a store's search and event logs with clearly
//! labelled synthetic traffic (`shoplook_domain::trends::demo`) over the products already
//! in it, so the console has something to show. Prints the true counts as JSON (the console
//! test compares them with what the console shows).

use std::path::PathBuf;

use clap::Args;
use shoplook_domain::trends::demo::{DEMO_KEY, DemoConfig, generate};

use super::StoreArgs;
use crate::error::{CliError, CliResult};

#[derive(Args, Debug, Clone)]
pub struct SeedEventsArgs {
    /// Required: says that what is written is synthetic demo traffic (logged under the key
    /// name "demo-traffic (synthetic, seed-events --demo)").
    #[arg(long, required = true)]
    pub demo: bool,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Days of traffic, ending yesterday (1-90: the logs' retention).
    #[arg(long, default_value_t = 56, value_parser = clap::value_parser!(u32).range(1..=90))]
    pub days: u32,
    /// Sessions on an average weekday at the start (they grow 15% over the days).
    #[arg(long, default_value_t = 150, value_parser = clap::value_parser!(u32).range(1..=100000))]
    pub sessions_per_day: u32,
    /// Also write the true counts (JSON) to this file.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Products used (the first, by id), at most.
    #[arg(long, default_value_t = 200)]
    pub max_products: usize,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: &SeedEventsArgs) -> CliResult<()> {
    let store = args.store.open()?;
    let facts = store.product_facts()?;
    if facts.is_empty() {
        return Err(CliError::NoProducts);
    }
    let mut products = Vec::new();
    for p in facts.into_iter().take(args.max_products) {
        if let Some(v) = store.product_vector(&p.id)? {
            products.push((p, v));
        }
    }
    let config = DemoConfig {
        seed: args.seed,
        days: args.days,
        sessions_per_day: args.sessions_per_day,
        today: shoplook_store::now_s().div_euclid(86_400),
    };
    let truth = generate(&products, &config, |searches, events| {
        store.import_logs(searches, events).map(|_| ())
    })?;
    store.flush()?;
    let json = serde_json::to_string_pretty(&truth)?;
    if let Some(path) = &args.summary {
        std::fs::write(path, &json).map_err(|source| CliError::Summary {
            path: path.clone(),
            source,
        })?;
    }
    eprintln!(
        "seeded {} days of SYNTHETIC demo traffic under the key name {DEMO_KEY:?}: {} sessions, \
         {} searches, {} events; rising look: {}",
        truth.days, truth.sessions, truth.searches, truth.events, truth.rising_product
    );
    println!("{json}");
    Ok(())
}
