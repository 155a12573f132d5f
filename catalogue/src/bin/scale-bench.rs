//! Scale benchmark of the catalogue stores (issue #3, item 9). Not a test.
//!
//!     cargo run --release -p shoplook-catalogue --bin scale-bench -- \
//!         --n 100000 [--pg postgres://...] [--queries 500] [--load-seconds 10] [--wrk wrk]
//!
//! For each store: build time (rows + HNSW index), memory, single-client p50/p99 search
//! latency and recall@10 against exact search (in process, through the `Store` trait), then
//! QPS and latency under concurrent HTTP load from a second process (`wrk` on loopback against
//! the real server) when `wrk` is installed. Vectors are seeded random unit vectors of the
//! embedder's dimension (1280); queries are fresh random unit vectors.

use std::collections::BinaryHeap;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use shoplook_catalogue::store::{ProductIndex, Store};
use shoplook_catalogue::store::postgres::PgStore;
use shoplook_catalogue::store::sqlite::{HnswParams, SqliteStore};
use shoplook_core::ModelContract;
use shoplook_core::wire::{Product, SearchFilters};

#[derive(Parser, Debug)]
struct Args {
    /// Catalogue size.
    #[arg(long, default_value_t = 100_000)]
    n: usize,
    #[arg(long, default_value_t = 1280)]
    dim: usize,
    /// 0: isotropic random unit vectors; D > 0: vectors of intrinsic dimension D (see `Data`).
    #[arg(long, default_value_t = 0)]
    latent: usize,
    /// Queries for latency and recall.
    #[arg(long, default_value_t = 500)]
    queries: usize,
    /// PostgreSQL server URL (a database `shoplook_bench` is created there and dropped after).
    #[arg(long)]
    pg: Option<String>,
    /// Skip the embedded store.
    #[arg(long)]
    no_embedded: bool,
    /// Quantisations of the embedded index to measure (comma-separated: f32,f16,i8,b1).
    #[arg(long, default_value = "f16")]
    quantization: String,
    /// HNSW search breadth (ef_search) for both stores; comma-separated to sweep.
    #[arg(long, default_value = "128")]
    ef: String,
    /// Seconds of HTTP load per store (0: skip the load test).
    #[arg(long, default_value_t = 10)]
    load_seconds: u64,
    /// Concurrent HTTP connections of the load generator.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    #[arg(long, default_value = "wrk")]
    wrk: String,
    /// Work directory (default: a temporary one).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Keep the embedded store's files and the PostgreSQL database `shoplook_bench`.
    #[arg(long)]
    keep: bool,
}

/// splitmix64 + Box-Muller: seeded Gaussian vectors without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f32 {
        ((self.next() >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    }
    fn unit_vector(&mut self, dim: usize) -> Vec<f32> {
        let mut v: Vec<f32> = (0..dim)
            .map(|_| {
                let (u1, u2) = (self.uniform(), self.uniform());
                (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
            })
            .collect();
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= n);
        v
    }
}

/// The benchmark's vectors. Isotropic random unit vectors are the worst case for any
/// approximate index: in 1280 dimensions every point is almost equally far from every other.
/// With `--latent D` the points come from a D-dimensional Gaussian mapped into the embedding
/// space by a fixed random basis, plus isotropic noise (10 % of the energy), then normalised:
/// closer to image embeddings, whose intrinsic dimension is low.
struct Data {
    dim: usize,
    basis: Vec<Vec<f32>>,
    noise: f32,
}

impl Data {
    fn new(dim: usize, latent: usize) -> Self {
        let mut rng = Rng(0xBA5E);
        let basis: Vec<Vec<f32>> = (0..latent).map(|_| rng.unit_vector(dim)).collect();
        let noise = (0.1 * latent as f32 / dim as f32).sqrt();
        Data { dim, basis, noise }
    }
    fn vector(&self, seed: u64) -> Vec<f32> {
        let mut rng = Rng(seed.wrapping_mul(0x2545F4914F6CDD1D) ^ 0xC0FFEE);
        if self.basis.is_empty() {
            return rng.unit_vector(self.dim);
        }
        let mut v = rng.unit_vector(self.dim);
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        // A Gaussian vector of norm `noise * sqrt(dim)` (the unit vector above, rescaled).
        let scale = self.noise * (self.dim as f32).sqrt() / n;
        v.iter_mut().for_each(|x| *x *= scale);
        for b in &self.basis {
            let (u1, u2) = (rng.uniform(), rng.uniform());
            let z = (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos();
            v.iter_mut().zip(b).for_each(|(x, y)| *x += z * y);
        }
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= n);
        v
    }
    /// Catalogue item `i`.
    fn item(&self, i: usize) -> Vec<f32> {
        self.vector(i as u64)
    }
    /// Query `q`: a fresh point from the same distribution.
    fn query(&self, q: usize) -> Vec<f32> {
        self.vector((1u64 << 48) + q as u64)
    }
}

fn product(i: usize) -> Product {
    Product {
        id: format!("p{i:07}"),
        title: format!("Product {i}"),
        brand: format!("brand{}", i % 50),
        price: (i % 500) as f64 + 0.99,
        currency: "EUR".into(),
        category: ["shoes", "outfit", "bags", "home", "kitchen"][i % 5].into(),
        image: format!("https://example.com/img/{i}.jpg"),
        url: format!("https://example.com/p/{i}"),
        in_stock: i % 7 != 0,
    }
}

/// Heap entry ordered by score *reversed*, so `BinaryHeap` (a max-heap) keeps the lowest of
/// the current top-10 on top. `PartialOrd` must agree with `Ord`: the heap compares with `<=`.
#[derive(PartialEq)]
struct Scored(f32, usize);
impl Eq for Scored {}
impl Ord for Scored {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        o.0.total_cmp(&self.0).then(self.1.cmp(&o.1))
    }
}
impl PartialOrd for Scored {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut s = [0f32; 8];
    for (ca, cb) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for i in 0..8 {
            s[i] += ca[i] * cb[i];
        }
    }
    s.iter().sum()
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn dir_mb(p: &std::path::Path) -> f64 {
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

struct Report {
    store: String,
    build_s: f64,
    memory: String,
    rows: Vec<(usize, f64, f64, f64)>, // ef, p50 ms, p99 ms, recall@10
    http: Option<String>,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn measure(store: &dyn Store, queries: &[Vec<f32>], truth: &[Vec<usize>]) -> (f64, f64, f64) {
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
fn http_load(
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
    let key = shoplook_catalogue::keys::create_key(store.as_ref(), "bench", false).unwrap();
    let config = shoplook_catalogue::http::ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        rate_limit: 0.0,
        burst: 1.0,
        max_body: 2 << 20,
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let st = store.clone();
    let c2 = contract.clone();
    rt.spawn(async move {
        let _ = shoplook_catalogue::http::serve(st, c2, config, move |a| {
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

fn main() {
    let args = Args::parse();
    let dim = args.dim;
    let work = args.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "shoplook-bench-{}",
            shoplook_catalogue::random_hex(4)
        ))
    });
    std::fs::create_dir_all(&work).unwrap();
    let efs: Vec<usize> = args
        .ef
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let data = Data::new(dim, args.latent);
    let queries: Vec<Vec<f32>> = (0..args.queries).map(|q| data.query(q)).collect();

    // Exact top-10 of every query, computed while the vectors are generated (chunked, so
    // the whole set never has to be in memory at once).
    eprintln!("exact search ground truth over {} vectors...", args.n);
    let t = Instant::now();
    let chunk = 20_000;
    let mut heaps: Vec<BinaryHeap<Scored>> =
        (0..queries.len()).map(|_| BinaryHeap::new()).collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    for start in (0..args.n).step_by(chunk) {
        let end = (start + chunk).min(args.n);
        let vs: Vec<Vec<f32>> = (start..end).map(|i| data.item(i)).collect();
        let per = heaps.len().div_ceil(threads);
        std::thread::scope(|s| {
            for (hs, qs) in heaps.chunks_mut(per).zip(queries.chunks(per)) {
                let vs = &vs;
                s.spawn(move || {
                    for (h, q) in hs.iter_mut().zip(qs) {
                        for (j, v) in vs.iter().enumerate() {
                            let sc = dot(q, v);
                            if h.len() < 10 {
                                h.push(Scored(sc, start + j));
                            } else if sc > h.peek().unwrap().0 {
                                h.pop();
                                h.push(Scored(sc, start + j));
                            }
                        }
                    }
                });
            }
        });
    }
    let truth: Vec<Vec<usize>> = heaps
        .into_iter()
        .map(|h| h.into_iter().map(|s| s.1).collect())
        .collect();
    eprintln!("  {:.1} s", t.elapsed().as_secs_f64());

    let mut reports = Vec::new();
    let contract = ModelContract {
        id: "bench".into(),
        version: "1".into(),
        dim,
    };

    if !args.no_embedded {
        for q in args.quantization.split(',') {
            let dir = work.join(format!("embedded-{q}"));
            let _ = std::fs::remove_dir_all(&dir);
            let rss0 = rss_mb();
            let t = Instant::now();
            let params = HnswParams {
                expansion_search: efs[0],
                ..HnswParams::default()
            };
            let store = SqliteStore::open_with(&dir, q, params).unwrap();
            store.ensure_contract(&contract).unwrap();
            for start in (0..args.n).step_by(chunk) {
                let end = (start + chunk).min(args.n);
                let batch: Vec<_> = (start..end)
                    .map(|i| (product(i), format!("h{i}"), data.item(i)))
                    .collect();
                store.upsert_batch(&batch).unwrap();
                eprint!(
                    "\r  embedded {q}: {end}/{} ({:.0} s)",
                    args.n,
                    t.elapsed().as_secs_f64()
                );
            }
            store.flush().unwrap();
            let build_s = t.elapsed().as_secs_f64();
            eprintln!();
            let stats = store.stats().unwrap();
            let memory = format!(
                "index {:.0} MB in RAM, process RSS +{:.0} MB, on disk {:.0} MB (SQLite rows + index file)",
                stats.index_bytes as f64 / 1e6,
                rss_mb() - rss0,
                dir_mb(&dir)
            );
            drop(store);
            let mut rows = Vec::new();
            let mut store_for_http = None;
            for &ef in &efs {
                let params = HnswParams {
                    expansion_search: ef,
                    ..HnswParams::default()
                };
                // Reopen: measures a server start (index file loaded, nothing rebuilt).
                let t = Instant::now();
                let s = SqliteStore::open_with(&dir, q, params).unwrap();
                eprintln!("  reopened in {:.1} s", t.elapsed().as_secs_f64());
                let (p50, p99, rec) = measure(&s, &queries, &truth);
                rows.push((ef, p50, p99, rec));
                store_for_http = Some(s);
            }
            let http = http_load(&args, Arc::new(store_for_http.unwrap()), &queries, &work);
            reports.push(Report {
                store: format!("embedded (SQLite + usearch HNSW, {q})"),
                build_s,
                memory,
                rows,
                http,
            });
            if !args.keep {
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
    }

    if let Some(url) = &args.pg {
        let (base, _) = url.rsplit_once('/').expect("postgres URL with a database");
        let admin = PgStore::open(url, None).unwrap();
        admin
            .execute("DROP DATABASE IF EXISTS shoplook_bench")
            .unwrap();
        admin.execute("CREATE DATABASE shoplook_bench").unwrap();
        let bench_url = format!("{base}/shoplook_bench");
        let store = PgStore::open(&bench_url, None).unwrap();
        store.ensure_contract(&contract).unwrap();
        let t = Instant::now();
        // Bulk load first, index after: the way a large catalogue is loaded.
        store
            .execute("DROP INDEX IF EXISTS products_embedding_hnsw")
            .unwrap();
        for start in (0..args.n).step_by(2000) {
            let end = (start + 2000).min(args.n);
            let batch: Vec<_> = (start..end)
                .map(|i| (product(i), format!("h{i}"), data.item(i)))
                .collect();
            store.upsert_batch(&batch).unwrap();
            eprint!(
                "\r  postgres rows: {end}/{} ({:.0} s)",
                args.n,
                t.elapsed().as_secs_f64()
            );
        }
        let rows_s = t.elapsed().as_secs_f64();
        eprintln!("\n  building the HNSW index...");
        store
            .execute(
                "SET maintenance_work_mem = '4GB'; SET max_parallel_maintenance_workers = 2;
                 CREATE INDEX products_embedding_hnsw ON products
                    USING hnsw (embedding vector_ip_ops) WITH (m = 16, ef_construction = 128);",
            )
            .unwrap();
        // VACUUM cannot run inside the implicit transaction of a multi-statement call.
        store.execute("VACUUM ANALYZE products").unwrap();
        let build_s = t.elapsed().as_secs_f64();
        let stats = store.stats().unwrap();
        let memory = format!(
            "HNSW index {:.0} MB on disk (rows loaded in {:.0} s, index built in {:.0} s)",
            stats.index_bytes as f64 / 1e6,
            rows_s,
            build_s - rows_s
        );
        let mut rows = Vec::new();
        let mut last = None;
        for &ef in &efs {
            // SAFETY of env: single-threaded here; the pool reads it on connect.
            unsafe { std::env::set_var("SHOPLOOK_EF_SEARCH", ef.to_string()) };
            let s = PgStore::open(&bench_url, None).unwrap();
            let (p50, p99, rec) = measure(&s, &queries, &truth);
            rows.push((ef, p50, p99, rec));
            last = Some(s);
        }
        drop(store);
        let http = http_load(&args, Arc::new(last.unwrap()), &queries, &work);
        reports.push(Report {
            store: "PostgreSQL 18 + pgvector HNSW (vector, f32)".into(),
            build_s,
            memory,
            rows,
            http,
        });
        if !args.keep {
            let _ = admin.execute("DROP DATABASE IF EXISTS shoplook_bench WITH (FORCE)");
        }
    }

    println!(
        "\n## {} {}, {} dims, {} queries, k = 10, {} CPU(s)\n",
        args.n,
        if args.latent == 0 {
            "random unit vectors".to_string()
        } else {
            format!(
                "vectors of intrinsic dimension {} (+10 % noise)",
                args.latent
            )
        },
        dim,
        args.queries,
        threads
    );
    println!("| store | build | memory | ef_search | p50 ms | p99 ms | recall@10 |");
    println!("|---|---:|---|---:|---:|---:|---:|");
    for r in &reports {
        for (ef, p50, p99, rec) in &r.rows {
            println!(
                "| {} | {:.0} s | {} | {} | {:.2} | {:.2} | {:.3} |",
                r.store, r.build_s, r.memory, ef, p50, p99, rec
            );
        }
    }
    println!("\nHTTP load (wrk, second process, loopback, POST /v1/search k=10):\n");
    for r in &reports {
        println!("- {}: {}", r.store, r.http.as_deref().unwrap_or("not run"));
    }
    if !args.keep && args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
}
