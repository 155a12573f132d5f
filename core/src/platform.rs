//! The few things the pipeline needs from the platform, behind one seam so that the same code
//! builds for native (Linux, macOS, Windows), Android, iOS and `wasm32-unknown-unknown`:
//!
//! - a monotonic clock for [`Timings`](crate::Timings): [`Instant`];
//! - "run these closures in parallel": [`parallel_map`], [`join`];
//! - how many threads are worth using: [`available_threads`].
//!
//! File access is not here: only the native-only constructors ([`Engine::from_dir`],
//! [`ModelFiles::from_dir`]) read files; [`Engine::from_files`] takes bytes on every target.
//!
//! On `target_family = "wasm"` there are no threads (a browser's main thread cannot block, and
//! `std::thread::spawn` fails there), so the closures run one after the other on the calling
//! thread; the clock is `performance.now()` through the `web-time` crate (which re-exports
//! `std::time` elsewhere, so native builds do not depend on it at all).
//!
//! [`Engine::from_dir`]: crate::Engine::from_dir
//! [`ModelFiles::from_dir`]: crate::ModelFiles::from_dir
//! [`Engine::from_files`]: crate::Engine::from_files

#[cfg(not(target_family = "wasm"))]
pub use std::time::Instant;
#[cfg(target_family = "wasm")]
pub use web_time::Instant;

/// Milliseconds elapsed since `since`.
pub fn elapsed_ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Threads worth using on this device: the available parallelism (1 if unknown, and always 1
/// on wasm).
pub fn available_threads() -> usize {
    #[cfg(not(target_family = "wasm"))]
    {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
    #[cfg(target_family = "wasm")]
    {
        1
    }
}

/// Applies `f` to every part, in parallel where the platform has threads (one scoped thread per
/// part when there are several), and returns the results in order. A part whose closure
/// panicked gives `None`. On wasm the parts run one after the other on the calling thread.
pub fn parallel_map<P, R, F>(parts: Vec<P>, f: F) -> Vec<Option<R>>
where
    P: Send,
    R: Send,
    F: Fn(P) -> R + Sync,
{
    #[cfg(not(target_family = "wasm"))]
    {
        if parts.len() > 1 {
            return std::thread::scope(|s| {
                let f = &f;
                let workers: Vec<_> = parts.into_iter().map(|p| s.spawn(move || f(p))).collect();
                workers.into_iter().map(|w| w.join().ok()).collect()
            });
        }
    }
    parts.into_iter().map(|p| Some(f(p))).collect()
}

/// Runs `a` on the calling thread and `b` on a second one (where the platform has threads;
/// one after the other on wasm) and returns both results. A panic in either is re-raised here.
pub fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA,
    B: FnOnce() -> RB + Send,
    RB: Send,
{
    #[cfg(not(target_family = "wasm"))]
    {
        std::thread::scope(|s| {
            let second = s.spawn(b);
            let ra = a();
            let rb = second
                .join()
                .unwrap_or_else(|payload| std::panic::resume_unwind(payload));
            (ra, rb)
        })
    }
    #[cfg(target_family = "wasm")]
    {
        (a(), b())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_map_keeps_order_and_reports_panics() {
        let out = parallel_map(vec![1, 2, 3, 4], |x| {
            assert_ne!(x, 3, "part 3 fails");
            x * 10
        });
        assert_eq!(out, vec![Some(10), Some(20), None, Some(40)]);
        assert_eq!(parallel_map(vec![7], |x| x + 1), vec![Some(8)]);
        assert!(parallel_map(Vec::<u8>::new(), |x| x).is_empty());
    }

    #[test]
    fn join_returns_both_results() {
        let (a, b) = join(|| 1 + 1, || "two".to_string());
        assert_eq!((a, b.as_str()), (2, "two"));
    }

    #[test]
    fn clock_moves_forward() {
        let t = Instant::now();
        assert!(elapsed_ms(t) >= 0.0);
        assert!(available_threads() >= 1);
    }
}
