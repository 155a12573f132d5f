//! What can stop a simulation: the catalogue it builds, the servers of its arms, or their
//! answers. Each failure keeps the error underneath as its `source()`; the CLI prints it.

use std::path::PathBuf;

use shoplook_domain::error::CatError;
use shoplook_domain::ingest::ImageLoadError;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A store or the ingest's embedding failed.
    #[error("{0}")]
    Catalogue(#[from] CatError),
    /// A demo product's image did not load.
    #[error("{0}")]
    Image(#[from] ImageLoadError),
    /// A photo for the distractors did not read.
    #[error("{}: {source}", path.display())]
    Photo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The on-device pipeline failed on a photo.
    #[error("{0}")]
    Core(#[from] shoplook_core::Error),
    #[error("the simulator's server did not start: {0}")]
    ServerDidNotStart(#[source] std::sync::mpsc::RecvTimeoutError),
    /// The request failed, or its answer broke off.
    #[error("POST {path}: {source}")]
    Request {
        path: String,
        #[source]
        source: ureq::Error,
    },
    /// The server answered, with a status other than 2xx.
    #[error("POST {path}: {status} {body}")]
    Status {
        path: String,
        status: u16,
        body: serde_json::Value,
    },
    /// A search answer without its `results` array.
    #[error("POST /v1/search: no results in the answer")]
    NoResults,
    #[error("{products} products: too few to simulate")]
    TooFewProducts { products: usize },
    /// The attack scenario found too few queries (never attacked) whose lists show its
    /// target.
    #[error("too few unattacked queries show the target {target}")]
    TargetNotShown { target: String },
}
