//! What an ingest reports: progress while it runs ([`IngestProgress`], implemented by the
//! binary: a progress bar, or a line per product) and the [`IngestSummary`] at the end.

/// What happened to a product, as reported to [`IngestProgress::settled`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Added,
    Updated,
    Unchanged,
    Deleted,
}

impl Settled {
    pub fn as_str(self) -> &'static str {
        match self {
            Settled::Added => "added",
            Settled::Updated => "updated",
            Settled::Unchanged => "unchanged",
            Settled::Deleted => "deleted",
        }
    }
}

/// How an ingest reports its progress while it runs (the `shoplook` binary draws a progress
/// bar, or prints one line per product with `-v`). Called from the one writer thread.
pub trait IngestProgress {
    /// `products` feed lines will be fetched and embedded.
    fn start(&self, _products: u64) {}
    /// A product is committed (or found unchanged, or deleted): it is durable from here on.
    fn settled(&self, _what: Settled, _id: &str) {}
    /// A product's image could not be fetched or embedded.
    fn failed(&self, _failure: &Failure) {}
    /// One more product of the feed has been handled, whatever the outcome.
    fn advance(&self) {}
    /// Every product of the feed has been handled (deletions may follow).
    fn finish(&self) {}
}

/// Reports nothing.
pub struct Quiet;

impl IngestProgress for Quiet {}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IngestSummary {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deleted: usize,
    pub failed: Vec<Failure>,
    /// Why `--delete-missing` did nothing, if it did not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_skipped: Option<String>,
    pub seconds: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Failure {
    pub line: usize,
    pub id: Option<String>,
    pub reason: String,
    /// What kind of failure, for programs reading the report (e.g. `image_address_refused`;
    /// see `ImageLoadError::code`); absent for feed and store errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

impl std::fmt::Display for IngestSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "ingest: {} added, {} updated, {} unchanged, {} deleted, {} failed ({:.1} s)",
            self.added,
            self.updated,
            self.unchanged,
            self.deleted,
            self.failed.len(),
            self.seconds
        )?;
        for x in &self.failed {
            writeln!(
                f,
                "  failed: line {} {}: {}",
                x.line,
                x.id.as_deref().unwrap_or("(no id)"),
                x.reason
            )?;
        }
        if let Some(why) = &self.delete_skipped {
            writeln!(f, "  --delete-missing skipped: {why}")?;
        }
        Ok(())
    }
}
