//! Exports for the host binding tests only (cargo feature `test-hooks`, never in app builds):
//! functions that panic, to check that a panic reaches Kotlin/Swift as
//! `ShopLookError.Internal` and not as a crash.

use std::sync::Arc;

use crate::error::{Result, guard};
use crate::task::{CancelToken, run_blocking};

/// Panics inside a synchronous export; must come back as `Internal`.
#[uniffi::export]
pub fn test_panic(message: String) -> Result<u32> {
    guard(|| panic!("{message}"))
}

/// Panics on the worker thread of an async export; must come back as `Internal`.
#[uniffi::export(default(cancel = None))]
pub async fn test_panic_async(message: String, cancel: Option<Arc<CancelToken>>) -> Result<u32> {
    run_blocking(cancel, move || panic!("{message}")).await
}

/// Sleeps `millis` on a worker thread, then returns `millis`: a slow call to cancel.
#[uniffi::export(default(cancel = None))]
pub async fn test_sleep_async(millis: u64, cancel: Option<Arc<CancelToken>>) -> Result<u64> {
    run_blocking(cancel, move || {
        std::thread::sleep(std::time::Duration::from_millis(millis));
        Ok(millis)
    })
    .await
}
