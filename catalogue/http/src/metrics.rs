//! Prometheus text metrics: request counts by route and status, latency histograms by route,
//! index size. Hand-rolled (a few counters) to keep dependencies few.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

const BUCKETS_S: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS_S.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
}

/// The `method` label: a method the API serves, or `other`. Labels come from fixed sets only
/// (methods here, routes from the router's patterns or `unmatched`), so made-up methods or
/// paths sent by anyone cannot grow `/metrics` without bound.
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
    KNOWN.into_iter().find(|m| *m == method).unwrap_or("other")
}

impl Metrics {
    /// Counts one answered request. `route` must be a router pattern or `unmatched`.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let method = method_label(method);
        *self
            .requests
            .lock()
            .unwrap()
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        let mut lat = self.latency.lock().unwrap();
        let h = lat.entry(route.to_string()).or_default();
        for (i, b) in BUCKETS_S.iter().enumerate() {
            if seconds <= *b {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut out = String::new();
        out.push_str("# HELP shoplook_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE shoplook_http_requests_total counter\n");
        for ((m, r, s), n) in self.requests.lock().unwrap().iter() {
            let _ = writeln!(
                out,
                "shoplook_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{s}\"}} {n}"
            );
        }
        out.push_str("# HELP shoplook_http_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE shoplook_http_request_duration_seconds histogram\n");
        for (r, h) in self.latency.lock().unwrap().iter() {
            for (i, b) in BUCKETS_S.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "shoplook_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "shoplook_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "shoplook_http_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "shoplook_http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                h.count
            );
        }
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_methods_share_one_label() {
        let m = Metrics::default();
        for i in 0..500 {
            m.observe(&format!("BREW{i}"), "unmatched", 405, 0.001);
        }
        m.observe("GET", "/healthz", 200, 0.001);
        let text = m.render(&[]);
        assert!(text.contains("method=\"other\",route=\"unmatched\",status=\"405\"} 500"));
        assert!(!text.contains("BREW"));
        assert_eq!(text.matches("shoplook_http_requests_total{").count(), 2);
    }
}
