//! How `catalogue ingest` shows its progress: a bar on a terminal, or with `-v` one line per
//! product on stdout (`added<TAB>ID`, `failed<TAB>ID<TAB>reason`) as soon as it is durable.

use std::cell::OnceCell;
use std::io::Write;

use indicatif::{ProgressBar, ProgressStyle};
use shoplook_domain::ingest::{Failure, IngestProgress, Settled};

/// A progress bar with rate and ETA on stderr.
#[derive(Default)]
pub struct Bar(OnceCell<ProgressBar>);

impl IngestProgress for Bar {
    fn start(&self, products: u64) {
        let bar = ProgressBar::new(products);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} products, {per_sec}, ETA {eta}",
            )
            .unwrap(),
        );
        let _ = self.0.set(bar);
    }

    fn advance(&self) {
        if let Some(b) = self.0.get() {
            b.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(b) = self.0.get() {
            b.finish_and_clear();
        }
    }
}

/// One line per product on stdout, flushed at once (a killed ingest has reported exactly
/// what was committed).
pub struct Lines;

impl IngestProgress for Lines {
    fn settled(&self, what: Settled, id: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}\t{id}", what.as_str());
        let _ = out.flush();
    }

    fn failed(&self, f: &Failure) {
        println!(
            "failed\t{}\t{}",
            f.id.as_deref().unwrap_or("-"),
            f.reason.replace(['\t', '\n'], " ")
        );
    }
}
