//! Test harness: runs the real `shoplook-catalogue` binary (= `shoplook catalogue ...`)
//! against a data directory or a real PostgreSQL + pgvector, and talks HTTP on loopback.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use shoplook_core::Engine;

pub const BIN: &str = env!("CARGO_BIN_EXE_shoplook-catalogue");

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::from_dir(shoplook_http::default_model_dir()).expect("models load"))
}

pub fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "shoplook-test-{tag}-{}",
        shoplook_store::random_hex(6)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Where a test's catalogue lives.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Backend {
    pub fn sqlite(tag: &str) -> Backend {
        Backend::Sqlite(tempdir(tag))
    }

    /// A fresh database on the test server of `SHOPLOOK_TEST_PG_URL`. `None` (test skipped)
    /// only outside CI: with `CI` set a missing server is a failure.
    pub fn postgres() -> Option<Backend> {
        let Ok(url) = std::env::var("SHOPLOOK_TEST_PG_URL") else {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "SHOPLOOK_TEST_PG_URL is not set: CI must run these tests against a real \
                     PostgreSQL + pgvector (scripts/test-catalogue.sh starts one)"
                );
            }
            eprintln!(
                "SHOPLOOK_TEST_PG_URL not set: PostgreSQL test skipped (run scripts/test-catalogue.sh)"
            );
            return None;
        };
        let (base, _) = url.rsplit_once('/').expect("URL with a database name");
        let db = format!("t_{}", shoplook_store::random_hex(6));
        let admin = shoplook_store::postgres::PgStore::open(&url, None)
            .expect("the test PostgreSQL answers");
        admin
            .execute(&format!("CREATE DATABASE {db}"))
            .expect("create a test database");
        Some(Backend::Postgres(format!("{base}/{db}")))
    }

    pub fn args(&self) -> Vec<String> {
        match self {
            Backend::Sqlite(d) => vec!["--data".into(), d.display().to_string()],
            Backend::Postgres(u) => vec!["--store".into(), u.clone()],
        }
    }

    pub fn open(&self) -> Box<dyn shoplook_store::Store> {
        let c = match self {
            Backend::Sqlite(d) => shoplook_store::StoreConfig::new(Some(d.clone()), None),
            Backend::Postgres(u) => shoplook_store::StoreConfig::new(None, Some(u.clone())),
        };
        shoplook_store::open_store(&c).expect("store opens")
    }
}

/// Runs the binary to completion; returns (status ok, stdout, stderr).
pub fn run(args: &[String]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(root())
        .output()
        .expect("run shoplook-catalogue");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Ingests a feed of the checkout's own fixtures: local image paths are allowed.
pub fn ingest(backend: &Backend, feed: &Path, extra: &[&str]) -> serde_json::Value {
    ingest_as(
        backend,
        feed,
        &[&["--allow-local-image-paths"], extra].concat(),
    )
}

/// Ingests with these flags only: the default image policy (http(s) from public hosts)
/// unless they widen it.
pub fn ingest_as(backend: &Backend, feed: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "ingest".to_string(),
        feed.display().to_string(),
        "--json".into(),
    ];
    args.extend(backend.args());
    args.extend(extra.iter().map(|s| s.to_string()));
    let (ok, out, err) = run(&args);
    assert!(ok, "ingest failed: {err}");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("summary {out:?}: {e}"))
}

pub fn create_key(backend: &Backend, name: &str, admin: bool) -> String {
    create_key_with(
        backend,
        name,
        &[if admin { "--admin" } else { "--role=app" }],
    )
}

/// `keys create --name NAME` with more flags (`--role advertiser`, `--role brand --brand B`).
pub fn create_key_with(backend: &Backend, name: &str, flags: &[&str]) -> String {
    issue_key(backend, name, flags).0
}

/// [`create_key_with`], with the key's id (printed on stderr): (secret, id).
pub fn issue_key(backend: &Backend, name: &str, flags: &[&str]) -> (String, String) {
    let mut args = vec![
        "keys".to_string(),
        "create".into(),
        "--name".into(),
        name.into(),
    ];
    args.extend(flags.iter().map(|s| s.to_string()));
    args.extend(backend.args());
    let (ok, out, err) = run(&args);
    assert!(ok, "keys create failed: {err}");
    let key = out.trim().to_string();
    assert!(key.starts_with("slk_"), "{key}");
    let id = err
        .split_whitespace()
        .find(|w| w.starts_with("key_"))
        .unwrap_or_else(|| panic!("no id in {err:?}"))
        .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    (key, id)
}

/// A running `serve` process on a free loopback port, killed on drop.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Server {
    pub fn start(backend: &Backend, extra: &[&str]) -> Server {
        let mut args = vec!["serve".to_string(), "--listen".into(), "127.0.0.1:0".into()];
        args.extend(backend.args());
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut child = Command::new(BIN)
            .args(&args)
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("serve printed {line:?}"))
            .to_string();
        Server { child, url }
    }
}

impl Server {
    /// Sends SIGTERM, as an init system does, and waits (up to 30 s) for the process to end.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().expect("wait for serve") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("serve did not stop within 30 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw HTTP call: (status, headers' Retry-After, body as JSON or text).
pub fn http(
    method: &str,
    url: &str,
    key: Option<&str>,
    body: Option<&str>,
) -> (u16, Option<String>, serde_json::Value) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let auth = key.map(|k| format!("Bearer {k}"));
    let resp = match method {
        "GET" | "DELETE" => {
            let mut r = if method == "GET" {
                agent.get(url)
            } else {
                agent.delete(url)
            };
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.call()
        }
        _ => {
            let mut r = if method == "PUT" {
                agent.put(url)
            } else {
                agent.post(url)
            };
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.header("Content-Type", "application/json")
                .send(body.unwrap_or("").as_bytes())
        }
    };
    let mut resp = resp.expect("HTTP exchange");
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, retry, json)
}

/// Sends only the head of a POST that declares a `content_length` body and asks
/// `Expect: 100-continue`, as a careful client does before a large upload, and returns the
/// status and JSON body of the answer. A server that refuses by length answers without
/// waiting for the body, so this never races the server closing the connection.
pub fn post_head_only(
    url: &str,
    key: Option<&str>,
    content_length: usize,
) -> (u16, Option<String>, serde_json::Value) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut conn = std::net::TcpStream::connect(host).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let auth = key.map_or(String::new(), |k| format!("Authorization: Bearer {k}\r\n"));
    write!(
        conn,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {content_length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    .expect("send head");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).expect("read answer");
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"));
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    let json = serde_json::from_str(body).unwrap_or(serde_json::Value::String(body.to_string()));
    (status, None, json)
}

/// Writes a test feed: the demo catalogue's products (real photo crops), plus an out-of-stock
/// product, a bad JSON line and a product whose image does not exist.
pub fn test_feed(dir: &Path) -> PathBuf {
    let demo = root().join("fixtures/demo-catalogue");
    let mut text = String::new();
    for line in std::fs::read_to_string(demo.join("feed.jsonl"))
        .unwrap()
        .lines()
    {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        let img = v["image"].as_str().unwrap().to_string();
        v["image"] = demo.join(img).display().to_string().into();
        text.push_str(&v.to_string());
        text.push('\n');
    }
    let cup = demo.join("demo-cup-1.jpg").display().to_string();
    text.push_str(
        &serde_json::json!({"id":"oos-cup","title":"Sold-out cup","brand":"Demo Home","price":9.0,
            "currency":"EUR","category":"kitchen","image":cup,
            "url":"https://example.com/demo/products/oos-cup","in_stock":false})
        .to_string(),
    );
    text.push('\n');
    text.push_str("{this is not json\n");
    text.push_str(
        &serde_json::json!({"id":"missing-image","title":"Ghost","price":1.0,"currency":"EUR",
            "image":"/nonexistent/ghost.jpg","url":"https://example.com/ghost"})
        .to_string(),
    );
    text.push('\n');
    let path = dir.join("feed.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

/// Products in `test_feed` that ingest (19 demo products + the out-of-stock cup).
pub const GOOD_PRODUCTS: u64 = 20;

/// Runs each case (a function taking a [`Backend`]) against both stores: `sqlite::CASE` in a
/// fresh data dir and `postgres::CASE` in a fresh database (skipped without a server outside
/// CI). The server tests' counterpart of the store crate's conformance macro: these cases go
/// through the real binary over HTTP.
#[macro_export]
macro_rules! both_stores {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $case() {
                    super::$case(super::Backend::sqlite(stringify!($case)));
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $case() {
                    if let Some(b) = super::Backend::postgres() {
                        super::$case(b);
                    }
                }
            )*
        }
    };
}

/// Unit vector `cos * e0 + sin * e_axis` of `dim` numbers: a product `cos` similar to the query
/// `e0` (the ads tests' hand-made catalogues, where every similarity is known).
pub fn vector(dim: usize, cos: f64, axis: usize) -> Vec<f64> {
    let mut v = vec![0.0; dim];
    v[0] = cos;
    v[axis] += (1.0 - cos * cos).max(0.0).sqrt();
    v
}

/// Waits past midnight UTC when it is less than `margin` seconds away (a test's day-bound
/// figures, budgets and caps, must not change day under it).
pub fn not_near_midnight(margin: i64) {
    let left = 86_400 - shoplook_store::now_s().rem_euclid(86_400);
    if left < margin {
        std::thread::sleep(std::time::Duration::from_secs(left as u64 + 2));
    }
}
