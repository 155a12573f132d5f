//! Running blocking work for `async` exports without an async runtime.
//!
//! Inference is CPU work that blocks for tens to hundreds of milliseconds, so an `async fn` that
//! simply ran it would block whichever thread polls the future (UniFFI polls on the caller's
//! thread). [`run_blocking`] queues the work on a small pool of worker threads instead and
//! returns a future that waits for its result: the Kotlin coroutine / Swift task suspends, its
//! thread stays free.
//!
//! The pool: one per process, [`pool_size`] threads (2 to 4), started lazily as calls need them
//! and then kept; calls beyond that wait in a FIFO queue. Many concurrent calls therefore cost
//! no more threads (nor stacks) than the cores can use, unlike one OS thread per call.
//!
//! Cancellation: dropping the future (Kotlin cancels the coroutine: UniFFI frees the Rust
//! future) or cancelling its [`CancelToken`] (Swift wrappers do this from
//! `withTaskCancellationHandler`) stops the *wait* at once. Work still in the queue then never
//! starts; work already running cannot be interrupted half-way through an inference: it
//! finishes on its worker and its result is dropped.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
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

/// Worker threads in the pool: the available parallelism, at most 4 (phones have 2-4 fast
/// cores; inference already uses them) and at least 2, so that one long call (a catalogue
/// search waiting on the network) does not hold up every other.
pub(crate) fn pool_size() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 4)
}

type Job = Box<dyn FnOnce() + Send>;

/// The process-wide worker pool: a FIFO of jobs and the threads that take them.
struct Pool {
    state: Mutex<PoolState>,
    job_ready: Condvar,
    size: usize,
}

struct PoolState {
    queue: VecDeque<Job>,
    /// Worker threads started (they never exit).
    workers: usize,
    /// Workers waiting for a job.
    idle: usize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(PoolState {
            queue: VecDeque::new(),
            workers: 0,
            idle: 0,
        }),
        job_ready: Condvar::new(),
        size: pool_size(),
    })
}

impl Pool {
    /// Queues `job`, starting a worker if no idle one can take it and the pool is not full.
    /// Fails (dropping the job) only when no worker exists and none can be started.
    fn submit(&'static self, job: Job) -> std::result::Result<(), String> {
        let mut s = lock(&self.state);
        s.queue.push_back(job);
        if s.queue.len() > s.idle && s.workers < self.size {
            let spawned = std::thread::Builder::new()
                .name("shoplook-worker".into())
                .stack_size(WORKER_STACK)
                .spawn(move || self.work());
            match spawned {
                Ok(_) => s.workers += 1,
                // The workers there are will take it in turn.
                Err(_) if s.workers > 0 => {}
                Err(e) => {
                    let job = s.queue.pop_back();
                    drop(s);
                    drop(job);
                    return Err(format!("cannot start a worker thread: {e}"));
                }
            }
        }
        drop(s);
        self.job_ready.notify_one();
        Ok(())
    }

    /// A worker's life: take the oldest job, run it, repeat.
    fn work(&self) {
        loop {
            let job = {
                let mut s = lock(&self.state);
                loop {
                    if let Some(job) = s.queue.pop_front() {
                        break job;
                    }
                    s.idle += 1;
                    s = self
                        .job_ready
                        .wait(s)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    s.idle -= 1;
                }
            };
            // Jobs catch their panics (`guard`); this only keeps the worker alive regardless.
            let _ = catch_unwind(AssertUnwindSafe(job));
        }
    }
}

/// The result slot shared by the worker and the waiting future.
struct Slot<T> {
    result: Option<Result<T>>,
    /// The job is gone (normally after storing `result`).
    finished: bool,
    /// The future was dropped: nobody waits for the result any more.
    abandoned: bool,
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
        lock(&self.slot).abandoned = true;
        if let Some(token) = &self.cancel {
            token.forget(self.id);
        }
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Queues `work` on the worker pool (panics caught) and returns a future of its result.
pub(crate) fn run_blocking<T, F>(cancel: Option<Arc<CancelToken>>, work: F) -> Pending<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    let slot = Arc::new(Mutex::new(Slot {
        result: None,
        finished: false,
        abandoned: false,
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
    let token = pending.cancel.clone();
    let job = move || {
        // Cancelled or dropped while queued: nobody wants the result, do not start the work.
        if lock(&sender.slot).abandoned || token.is_some_and(|t| t.is_cancelled()) {
            sender.send(Err(ShopLookError::Cancelled));
        } else {
            sender.send(guard(work));
        }
    };
    if let Err(detail) = pool().submit(Box::new(job)) {
        // The job (and its Sender) was dropped; store the reason instead.
        lock(&slot).result = Some(Err(ShopLookError::Internal { detail }));
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
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let fut = run_blocking(Some(token.clone()), move || {
            started_tx.send(()).ok();
            release_rx.recv().ok();
            done_tx.send(()).ok();
            Ok(1)
        });
        let t = token.clone();
        std::thread::spawn(move || {
            // Cancel once the work runs (the pool may be busy with other tests' calls).
            started_rx.recv_timeout(Duration::from_secs(5)).ok();
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

    #[test]
    fn concurrent_calls_share_at_most_pool_size_threads() {
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let calls: Vec<_> = (0..24)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                run_blocking(None, move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(10));
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok(std::thread::current().id())
                })
            })
            .collect();
        let threads: std::collections::HashSet<_> =
            calls.into_iter().map(|c| block_on(c).unwrap()).collect();
        let size = pool_size();
        assert!((2..=4).contains(&size));
        assert!(
            threads.len() <= size,
            "{} threads for a pool of {size}",
            threads.len()
        );
        assert!(threads.len() > 1, "the calls never ran in parallel");
        assert!(most.load(Ordering::SeqCst) <= size);
        assert!(lock(&pool().state).workers <= size);
    }

    #[test]
    fn work_dropped_or_cancelled_while_queued_never_starts() {
        // Fill every worker with a call that waits, so that the next calls stay queued.
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let blockers: Vec<_> = (0..pool_size())
            .map(|_| {
                let (rx, started) = (release_rx.clone(), started_tx.clone());
                run_blocking(None, move || {
                    started.send(()).ok();
                    lock(&rx).recv().ok();
                    Ok(())
                })
            })
            .collect();
        for _ in 0..pool_size() {
            started_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        }
        let ran = Arc::new(AtomicU64::new(0));
        let r = ran.clone();
        drop(run_blocking(None, move || {
            r.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }));
        let token = CancelToken::new();
        let r = ran.clone();
        let cancelled = run_blocking(Some(token.clone()), move || {
            r.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
        token.cancel();
        for _ in 0..pool_size() {
            release_tx.send(()).unwrap();
        }
        for b in blockers {
            assert_eq!(block_on(b), Ok(()));
        }
        assert_eq!(block_on(cancelled), Err(ShopLookError::Cancelled));
        // A later call runs after both skipped ones (FIFO), so they have been dequeued.
        assert_eq!(block_on(run_blocking(None, || Ok(7))), Ok(7));
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }
}
