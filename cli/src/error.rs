//! The error type of the command-line front end. Every failure is a [`CliError`]; a variant
//! that wraps a failure of the libraries underneath (the on-device pipeline, the catalogue,
//! the tools, the OS, the image codec) keeps that error as its `source()`. Each variant's
//! message already ends with its source's own words, so `main` prints the `Display` alone,
//! once, after the binary's name (`shoplook: cannot read x.jpg: No such file ...`): the same
//! one line on stderr as when these were strings.

use std::num::ParseFloatError;
use std::path::PathBuf;

use shoplook_domain::CatError;
use shoplook_domain::store::RoleError;
use shoplook_tools::eval::EvalError;
use shoplook_tools::plot::PlotError;
use shoplook_tools::simulate::SimError;

/// Result alias of the front end.
pub type CliResult<T> = Result<T, CliError>;

/// Errors of the `shoplook` and `shoplook-catalogue` commands.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A flag with a value it does not accept.
    #[error(transparent)]
    Flag(#[from] FlagError),
    /// `keys create --role` (with `--brand`) that does not name a role.
    #[error("--role: {0}")]
    Role(#[source] RoleError),
    /// The on-device pipeline failed (photo unreadable, model missing, catalogue client).
    #[error("{0}")]
    Core(#[from] shoplook_core::Error),
    /// The catalogue (store, ingest, server) failed.
    #[error("{0}")]
    Cat(#[from] CatError),
    /// `catalogue eval` failed.
    #[error("{0}")]
    Eval(#[from] EvalError),
    /// `catalogue simulate` failed.
    #[error("{0}")]
    Sim(#[from] SimError),
    /// The learning-curve chart of `simulate --plot` could not be drawn.
    #[error("{0}")]
    Plot(#[from] PlotError),
    /// A JSON value could not be written.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// A file or directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A directory could not be created.
    #[error("cannot create {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `seed-events --summary FILE` could not be written.
    #[error("{}: {source}", path.display())]
    Summary {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A video frame of `track` could not be read or decoded.
    #[error("{}: {source}", path.display())]
    Frame {
        path: PathBuf,
        #[source]
        source: image::ImageError,
    },
    /// An image (`--annotate`, the contact sheet) could not be encoded or written.
    #[error("cannot write {}: {source}", path.display())]
    WriteImage {
        path: PathBuf,
        #[source]
        source: image::ImageError,
    },
    /// `track`: the frame directory holds no .jpg, .jpeg or .png file.
    #[error("no frames in {}", dir.display())]
    NoFrames { dir: PathBuf },
    /// `track --sheet` without a tracker run to draw.
    #[error("no run for the contact sheet")]
    NoRun,
    /// `models export-nnef`: no `<name>.json` model manifest in the directory.
    #[error("no model manifests in {}", dir.display())]
    NoManifests { dir: PathBuf },
    /// `models export-nnef` from a directory whose model `name` is an NNEF export already.
    #[error(
        "{name}: {} already holds an NNEF export; export from a directory with the ONNX files only",
        dir.display()
    )]
    AlreadyNnef { name: String, dir: PathBuf },
    /// `seed-events` on a store without products.
    #[error(
        "the store has no products: ingest a catalogue first, e.g. \
         `shoplook catalogue ingest --data DIR --allow-local-image-paths fixtures/demo-catalogue/feed.jsonl`"
    )]
    NoProducts,
    /// `keys revoke` of an id no key has (nothing changed).
    #[error("no key has the id {id:?} (`shoplook catalogue keys list` shows the ids)")]
    UnknownKey { id: String },
}

/// A flag whose value is out of its range; each message names the flag.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FlagError {
    /// A duration flag of `serve` (`flag` without its dashes) that is not > 0 seconds.
    #[error("--{flag} must be a positive number of seconds")]
    Seconds { flag: &'static str },
    #[error("--image-timeout {value} must be > 0")]
    ImageTimeout { value: f64 },
    #[error("--ad-positions: a comma-separated list of positions >= 1, or none")]
    AdPositions,
    #[error("--ad-min-similarity is a cosine similarity, -1..=1")]
    AdMinSimilarity,
    #[error("--ad-reserve-cents must be at least 1")]
    AdReserveCents,
    #[error("--ad-frequency-cap must be at least 1")]
    AdFrequencyCap,
    #[error("--ad-pacing-slack must be 0..=86400 seconds")]
    AdPacingSlack,
    #[error("--ad-currency: three capital letters (ISO 4217), like EUR")]
    AdCurrency,
    #[error("--plot writes an SVG: name it .svg, not {}", path.display())]
    PlotNotSvg { path: PathBuf },
}

/// A `--region x,y,w,h` that does not parse (clap prints it after the flag and value).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegionError {
    /// One of the values (as written, untrimmed) is not a number.
    #[error("{part:?} is not a number")]
    NotANumber {
        part: String,
        #[source]
        source: ParseFloatError,
    },
    /// Not four values.
    #[error("expected x,y,width,height")]
    Arity,
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    #[test]
    fn io_errors_keep_the_path_and_their_source() {
        let e = CliError::Read {
            path: "x.jpg".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert!(e.to_string().starts_with("cannot read x.jpg: "), "{e}");
        assert!(
            e.source()
                .unwrap()
                .downcast_ref::<std::io::Error>()
                .is_some()
        );
    }

    #[test]
    fn library_errors_keep_their_source_and_their_words() {
        let core = shoplook_core::Error::EmptyInput;
        let e = CliError::from(core.clone());
        assert_eq!(e.to_string(), core.to_string());
        assert_eq!(
            e.source().unwrap().downcast_ref::<shoplook_core::Error>(),
            Some(&core)
        );
        let e = CliError::Role(RoleError::Unknown("root".into()));
        assert!(e.to_string().starts_with("--role: "), "{e}");
        assert!(e.source().unwrap().downcast_ref::<RoleError>().is_some());
    }

    #[test]
    fn flag_errors_name_the_flag() {
        let e = CliError::from(FlagError::Seconds {
            flag: "header-timeout",
        });
        assert_eq!(
            e.to_string(),
            "--header-timeout must be a positive number of seconds"
        );
        assert_eq!(
            FlagError::ImageTimeout { value: 0.0 }.to_string(),
            "--image-timeout 0 must be > 0"
        );
    }
}
