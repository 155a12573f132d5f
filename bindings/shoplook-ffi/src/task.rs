//! Running blocking work for `async` exports without an async runtime.
//!
//! Inference is CPU work that blocks for tens to hundreds of milliseconds, so an `async fn` that
//! simply ran it would block whichever thread polls the future (UniFFI polls on the caller's
//! thread). [`run_blocking`] runs the work on a fresh thread instead and returns a future that
//! waits for its result: the Kotlin coroutine / Swift task suspends, its thread stays free.
//!
//! Cancellation: dropping the future (Kotlin cancels the coroutine: UniFFI frees the Rust
//! future) or cancelling its [`CancelToken`] (Swift wrappers do this from
//! `withTaskCancellationHandler`) stops the *wait* at once. The computation itself cannot be
//! interrupted half-way through an inference: it finishes on its thread and its result is dropped.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::error::{Result, ShopLookError, guard};

/// Stack for worker threads: inference is not deep, but leave room above the 2 MiB default.
const WORKER_STACK: usize = 4 << 20;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave them inconsistent (plain assignments).
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A handle to cancel waiting for one or more `async` calls.
///
/// Kotlin does not need one: cancelling the coroutine already stops the wait. Swift's generated
/// `async` functions cannot see task cancellation, so the Swift extensions shipped with the
/// bindings create a token per call and cancel it from `withTaskCancellationHandler`.
/// Cancelled calls fail with `Cancelled`; a token stays cancelled.
#[derive(uniffi::Object, Default)]
pub struct CancelToken {
    state: Mutex<TokenState>,
}

#[derive(Default)]
struct TokenState {
    cancelled: bool,
    /// Wakers of the futures waiting on this token, by future id.
    waiters: Vec<(u64, Waker)>,
}

#[uniffi::export]
impl CancelToken {
    /// A token that is not cancelled.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Cancels every call waiting on this token (now or later). Idempotent.
    pub fn cancel(&self) {
        let waiters = {
            let mut s = lock(&self.state);
            s.cancelled = true;
            std::mem::take(&mut s.waiters)
        };
        for (_, w) in waiters {
            w.wake();
        }
    }

    /// Whether `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        lock(&self.state).cancelled
    }
}

impl CancelToken {
    /// Returns true if cancelled; otherwise remembers `waker` for future `id`.
    fn register(&self, id: u64, waker: &Waker) -> bool {
        let mut s = lock(&self.state);
        if s.cancelled {
            return true;
        }
        match s.waiters.iter_mut().find(|(i, _)| *i == id) {
            Some((_, w)) => w.clone_from(waker),
            None => s.waiters.push((id, waker.clone())),
        }
        false
    }

    fn forget(&self, id: u64) {
        lock(&self.state).waiters.retain(|(i, _)| *i != id);
    }
}

/// The result slot shared by the worker thread and the waiting future.
struct Slot<T> {
    result: Option<Result<T>>,
    /// The worker is gone (normally after storing `result`).
    finished: bool,
    waker: Option<Waker>,
}

/// Held by the worker; fills the slot and wakes the future, also if the worker dies early.
struct Sender<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> Sender<T> {
    fn send(self, result: Result<T>) {
        lock(&self.slot).result = Some(result);
        // Drop marks the slot finished and wakes the waiter.
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut s = lock(&self.slot);
            s.finished = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// The future returned by [`run_blocking`].
pub(crate) struct Pending<T> {
    id: u64,
    slot: Arc<Mutex<Slot<T>>>,
    cancel: Option<Arc<CancelToken>>,
}

impl<T> Future for Pending<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        if let Some(token) = &self.cancel
            && token.register(self.id, cx.waker())
        {
            return Poll::Ready(Err(ShopLookError::Cancelled));
        }
        let mut s = lock(&self.slot);
        if let Some(result) = s.result.take() {
            return Poll::Ready(result);
        }
        if s.finished {
            return Poll::Ready(Err(ShopLookError::Internal {
                detail: "worker thread ended without a result".into(),
            }));
        }
        match &mut s.waker {
            Some(w) => w.clone_from(cx.waker()),
            None => s.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for Pending<T> {
    fn drop(&mut self) {
        if let Some(token) = &self.cancel {
            token.forget(self.id);
        }
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Runs `work` on a new thread (panics caught) and returns a future of its result.
pub(crate) fn run_blocking<T, F>(cancel: Option<Arc<CancelToken>>, work: F) -> Pending<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    let slot = Arc::new(Mutex::new(Slot {
        result: None,
        finished: false,
        waker: None,
    }));
    let pending = Pending {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        slot: slot.clone(),
        cancel,
    };
    if pending.cancel.as_ref().is_some_and(|t| t.is_cancelled()) {
        // Cancelled before it started: do not start the work at all.
        Sender { slot }.send(Err(ShopLookError::Cancelled));
        return pending;
    }
    let sender = Sender { slot: slot.clone() };
    let spawned = std::thread::Builder::new()
        .name("shoplook-worker".into())
        .stack_size(WORKER_STACK)
        .spawn(move || sender.send(guard(work)));
    if let Err(e) = spawned {
        // The closure (and its Sender) was dropped; store the reason instead.
        lock(&slot).result = Some(Err(ShopLookError::Internal {
            detail: format!("cannot start a worker thread: {e}"),
        }));
    }
    pending
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::task::Wake;
    use std::time::Duration;

    /// A minimal executor: block the current thread until the future is ready.
    fn block_on<F: Future>(fut: F) -> F::Output {
        struct Unpark(std::thread::Thread);
        impl Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut fut = std::pin::pin!(fut);
        loop {
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park_timeout(Duration::from_millis(50));
        }
    }

    #[test]
    fn result_comes_back_from_the_worker_thread() {
        let main = std::thread::current().id();
        let worker = block_on(run_blocking(None, move || Ok(std::thread::current().id())));
        assert_ne!(worker.unwrap(), main);
    }

    #[test]
    fn a_panic_in_the_worker_is_an_internal_error() {
        let r: Result<()> = block_on(run_blocking(None, || panic!("worker boom")));
        assert!(
            matches!(r, Err(ShopLookError::Internal { detail }) if detail.contains("worker boom"))
        );
    }

    #[test]
    fn cancel_stops_the_wait_while_the_work_runs_on() {
        let token = CancelToken::new();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let fut = run_blocking(Some(token.clone()), move || {
            release_rx.recv().ok();
            done_tx.send(()).ok();
            Ok(1)
        });
        let t = token.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            t.cancel();
        });
        assert_eq!(block_on(fut), Err(ShopLookError::Cancelled));
        assert!(token.is_cancelled());
        // The work was still running; release it, it finishes and its result is dropped.
        release_tx.send(()).unwrap();
        done_rx.recv_timeout(Duration::from_secs(5)).unwrap();
    }

    #[test]
    fn an_already_cancelled_token_does_not_start_work() {
        let token = CancelToken::new();
        token.cancel();
        let r = block_on(run_blocking(Some(token), || -> Result<()> {
            panic!("must not run")
        }));
        assert_eq!(r, Err(ShopLookError::Cancelled));
    }

    #[test]
    fn dropped_futures_unregister_from_the_token() {
        let token = CancelToken::new();
        for _ in 0..10 {
            let r = block_on(run_blocking(Some(token.clone()), || Ok(())));
            assert_eq!(r, Ok(()));
        }
        assert!(lock(&token.state).waiters.is_empty());
    }
}
