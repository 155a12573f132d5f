//! Scale benchmark of the catalogue stores (issue #3, item 9). Not a test.
//!
//!     cargo run --release -p shoplook-tools --bin scale-bench -- \
//!         --n 100000 [--pg postgres://...] [--queries 500] [--load-seconds 10] [--wrk wrk]
//!
//! For each store: build time (rows + HNSW index), memory, single-client p50/p99 search
//! latency and recall@10 against exact search (in process, through the `Store` trait), then
//! QPS and latency under concurrent HTTP load from a second process (`wrk` on loopback against
//! the real server) when `wrk` is installed. Vectors are seeded random unit vectors of the
//! embedder's dimension (1280); queries are fresh random unit vectors.

use std::collections::BinaryHeap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

mod data;
mod measure;

use clap::Parser;
use shoplook_core::ModelContract;
use shoplook_store::postgres::PgStore;
use shoplook_store::sqlite::{HnswParams, SqliteStore};
use shoplook_store::{ProductIndex, Store};

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

use data::*;
use measure::*;

fn main() {
    let args = Args::parse();
    let dim = args.dim;
    let work = args.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("shoplook-bench-{}", shoplook_store::random_hex(4)))
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
            let s = PgStore::open_with(&bench_url, None, ef).unwrap();
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
