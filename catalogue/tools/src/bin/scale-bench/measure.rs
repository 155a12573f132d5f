//! Measurements: memory, latency and recall through the `Store` trait, and HTTP load with
//! `wrk` against the real server.

use std::io::Write;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shoplook_core::ModelContract;
use shoplook_core::wire::SearchFilters;
use shoplook_store::Store;

use super::Args;

pub fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

pub fn dir_mb(p: &std::path::Path) -> f64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len() as f64)
                .sum::<f64>()
                / 1e6
        })
        .unwrap_or(0.0)
}

pub struct Report {
    pub store: String,
    pub build_s: f64,
    pub memory: String,
    pub rows: Vec<(usize, f64, f64, f64)>, // ef, p50 ms, p99 ms, recall@10
    pub http: Option<String>,
}

pub fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub fn measure(store: &dyn Store, queries: &[Vec<f32>], truth: &[Vec<usize>]) -> (f64, f64, f64) {
    let mut lat = Vec::new();
    let mut hit = 0usize;
    for (q, t) in queries.iter().zip(truth) {
        let start = Instant::now();
        let res = store
            .search(q, 10, None, &SearchFilters::default())
            .unwrap();
        lat.push(start.elapsed().as_secs_f64() * 1000.0);
        for (p, _) in &res {
            let i: usize = p.id[1..].parse().unwrap();
            if t.contains(&i) {
                hit += 1;
            }
        }
    }
    lat.sort_by(f64::total_cmp);
    (
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        hit as f64 / (10 * queries.len()) as f64,
    )
}

/// Starts the real API server over `store` on a loopback port and runs wrk against it.
pub fn http_load(
    args: &Args,
    store: Arc<dyn Store>,
    queries: &[Vec<f32>],
    work: &std::path::Path,
) -> Option<String> {
    if args.load_seconds == 0 {
        return None;
    }
    if Command::new(&args.wrk).arg("--version").output().is_err() {
        return Some(format!("{} not installed: load test skipped", args.wrk));
    }
    let contract = ModelContract {
        id: "bench".into(),
        version: "1".into(),
        dim: args.dim,
    };
    let key = shoplook_domain::keys::create_key(
        store.as_ref(),
        "bench",
        &shoplook_domain::keys::Role::App,
    )
    .unwrap();
    let config = shoplook_http::ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        rate_limit: 0.0,
        burst: 1.0,
        max_body: 2 << 20,
        ..Default::default()
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let st = store.clone();
    let c2 = contract.clone();
    rt.spawn(async move {
        let _ = shoplook_http::App::new(st, c2, config)
            .serve(move |a| {
                let _ = tx.send(a);
            })
            .await;
    });
    let addr = rx.recv_timeout(Duration::from_secs(30)).ok()?;
    // Bodies: one query per line, rotated by the Lua script.
    let bodies = work.join("bodies.txt");
    let mut f = std::fs::File::create(&bodies).unwrap();
    for q in queries.iter().take(200) {
        let body = serde_json::json!({"embedding": q, "model": contract.to_string(), "k": 10});
        writeln!(f, "{body}").unwrap();
    }
    let lua = work.join("search.lua");
    std::fs::write(
        &lua,
        format!(
            r#"local bodies = {{}}
for line in io.lines("{}") do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, "/v1/search", nil, bodies[i])
end
local errors = 0
response = function(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end
"#,
            bodies.display()
        ),
    )
    .unwrap();
    let out = Command::new(&args.wrk)
        .args([
            "-t",
            "2",
            "-c",
            &args.connections.to_string(),
            "-d",
            &format!("{}s", args.load_seconds),
            "--latency",
            "-s",
        ])
        .arg(&lua)
        .arg(format!("http://{addr}"))
        .output()
        .ok()?;
    rt.shutdown_timeout(Duration::from_secs(1));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let find = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
    };
    let qps = find("Requests/sec:").and_then(|v| v.get(1).map(|s| s.to_string()));
    let p50 = find("50%").and_then(|v| v.get(1).map(|s| s.to_string()));
    let p99 = find("99%").and_then(|v| v.get(1).map(|s| s.to_string()));
    let non2xx = find("Non-2xx").and_then(|v| v.last().map(|s| s.to_string()));
    Some(format!(
        "{} QPS, p50 {}, p99 {} ({} connections, {} s{})",
        qps.unwrap_or("?".into()),
        p50.unwrap_or("?".into()),
        p99.unwrap_or("?".into()),
        args.connections,
        args.load_seconds,
        non2xx
            .map(|n| format!(", non-2xx: {n}"))
            .unwrap_or_default()
    ))
}
