//! Tools around the catalogue service, above its libraries: shoppers simulated through the
//! real HTTP service (`simulate`), retrieval quality on real crops (`eval`), plots (`plot`),
//! and the scale bench (`src/bin/scale-bench`). Nothing below (store, domain, HTTP) imports
//! this crate; the `shoplook` command line calls it.

pub mod eval;
pub mod plot;
pub mod simulate;
