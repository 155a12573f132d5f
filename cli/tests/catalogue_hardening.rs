//! What an abuse run found (issue 14), kept fixed: slow clients cannot hold connections,
//! one address cannot take every connection, made-up methods do not grow `/metrics`, and every
//! error (404, 405, 414, a path that is not UTF-8) answers the documented JSON shape with a
//! capped echo of the input. The real server binary on loopback, raw TCP where a client
//! library would be too polite.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::*;

/// A server on an empty embedded store with short client timeouts (1 s for headers, 2 s for
/// a body unless `extra` says otherwise).
fn server(extra: &[&str]) -> (Server, SocketAddr) {
    server_on(&Backend::sqlite("hardening"), extra)
}

/// [`server`] on `backend`.
fn server_on(backend: &Backend, extra: &[&str]) -> (Server, SocketAddr) {
    let mut args = extra.to_vec();
    for (flag, default) in [("--header-timeout", "1"), ("--request-timeout", "2")] {
        if !args.contains(&flag) {
            args.extend([flag, default]);
        }
    }
    let s = Server::start(backend, &args);
    let addr = s
        .url
        .trim_start_matches("http://")
        .parse()
        .expect("server address");
    (s, addr)
}

/// Reads until the server closes the connection (or `limit` passes); what it sent.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration, bool) {
    let start = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while start.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&got).into(), start.elapsed(), true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return (String::from_utf8_lossy(&got).into(), start.elapsed(), true),
        }
    }
    (String::from_utf8_lossy(&got).into(), start.elapsed(), false)
}

/// Sends `bytes` one at a time, `gap` apart, while the server keeps the connection; how many
/// were written before it closed.
fn trickle(stream: &mut TcpStream, bytes: &[u8], gap: Duration, limit: Duration) -> usize {
    let start = Instant::now();
    for (i, b) in bytes.iter().enumerate() {
        if start.elapsed() > limit || stream.write_all(&[*b]).is_err() {
            return i;
        }
        std::thread::sleep(gap);
    }
    bytes.len()
}

fn healthz_ok(addr: SocketAddr) -> bool {
    let (status, _, _) = http("GET", &format!("http://{addr}/healthz"), None, None);
    status == 200
}

#[test]
fn headers_sent_a_byte_at_a_time_are_cut_off() {
    let (_s, addr) = server(&[]);
    let mut slow = TcpStream::connect(addr).unwrap();
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nX-Padding: {}\r\n\r\n",
        "a".repeat(200)
    );
    let start = Instant::now();
    let sent = trickle(
        &mut slow,
        head.as_bytes(),
        Duration::from_millis(100),
        Duration::from_secs(10),
    );
    let held = start.elapsed();
    // The server must close within the 1 s header timeout (plus scheduling slack), long before
    // the whole head (about 25 s at this pace) is sent; meanwhile others are served.
    assert!(sent < head.len(), "the whole slow head was accepted");
    assert!(
        held < Duration::from_secs(4),
        "slow headers held a connection for {held:?}"
    );
    assert!(healthz_ok(addr));
}

#[test]
fn an_idle_connection_is_closed() {
    let (_s, addr) = server(&[]);
    let mut idle = TcpStream::connect(addr).unwrap();
    let (_, after, closed) = read_until_closed(&mut idle, Duration::from_secs(10));
    assert!(closed, "an idle connection was kept for 10 s");
    assert!(
        after < Duration::from_secs(4),
        "idle connection held for {after:?}"
    );

    // Also after a first request on a keep-alive connection.
    let mut kept = TcpStream::connect(addr).unwrap();
    write!(kept, "GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let (answer, after, closed) = read_until_closed(&mut kept, Duration::from_secs(10));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        closed && after < Duration::from_secs(4),
        "kept alive idle for {after:?}"
    );
}

#[test]
fn an_unauthorised_body_is_not_waited_for() {
    let (_s, addr) = server(&[]);
    let mut c = TcpStream::connect(addr).unwrap();
    // A declared body of 1000 bytes, of which one arrives: keys are checked before the body is
    // read, so the answer is 401 at once and the connection closes (the body was never read).
    write!(
        c,
        "POST /v1/search HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n{{"
    )
    .unwrap();
    let (answer, after, closed) = read_until_closed(&mut c, Duration::from_secs(10));
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        closed && after < Duration::from_secs(4),
        "held for {after:?}"
    );
}

#[test]
fn a_keyed_body_sent_slowly_gets_408() {
    let backend = Backend::sqlite("hardening-408");
    let key = create_key(&backend, "slow", false);
    let (_s, addr) = server_on(&backend, &[]);
    let mut slow = TcpStream::connect(addr).unwrap();
    write!(
        slow,
        "POST /v1/search HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{"
    )
    .unwrap();
    let start = Instant::now();
    let body = b"\"embedding\": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]";
    trickle(
        &mut slow,
        body,
        Duration::from_millis(300),
        Duration::from_secs(5),
    );
    let (answer, _, closed) = read_until_closed(&mut slow, Duration::from_secs(10));
    let held = start.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert!(closed, "connection kept after 408");
    assert!(
        held < Duration::from_secs(5),
        "a slow body held a connection for {held:?}"
    );
    assert!(healthz_ok(addr));
}

#[test]
fn one_address_cannot_take_every_connection() {
    let (_s, addr) = server(&["--header-timeout", "5", "--max-connections-per-ip", "3"]);
    // Three idle connections from 127.0.0.1 are allowed...
    let held: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(200));
    // ...the fourth is told why and closed.
    let mut fourth = TcpStream::connect(addr).unwrap();
    let (answer, _, closed) = read_until_closed(&mut fourth, Duration::from_secs(3));
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains("\"code\":\"too_many_connections\""),
        "{answer}"
    );
    assert!(closed);
    // Another address is served meanwhile.
    let other = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    other
        .bind(&"127.0.0.2:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    other.connect(&addr.into()).unwrap();
    let mut other: TcpStream = other.into();
    write!(
        other,
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let (answer, _, _) = read_until_closed(&mut other, Duration::from_secs(3));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Closing one gives its place back.
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    assert!(healthz_ok(addr));
}

#[test]
fn made_up_methods_do_not_grow_metrics() {
    let backend = Backend::sqlite("hardening");
    let admin = create_key(&backend, "ops", true);
    let (_s, addr) = server_on(&backend, &[]);
    let metrics = || {
        let (status, _, body) = http("GET", &format!("http://{addr}/metrics"), Some(&admin), None);
        assert_eq!(status, 200);
        body.as_str().unwrap_or_default().to_string()
    };
    let brew = |i: usize| {
        let mut c = TcpStream::connect(addr).unwrap();
        write!(
            c,
            "BREW{i} /pot-{i} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let (answer, _, _) = read_until_closed(&mut c, Duration::from_secs(3));
        assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    };
    // One made-up request and one metrics read create the series they will ever need...
    brew(0);
    metrics();
    let before = metrics();
    // ...so 300 more, each with a new method and path, add none.
    for i in 1..=300 {
        brew(i);
    }
    let after = metrics();
    assert!(!after.contains("BREW"), "made-up method became a label");
    assert!(!after.contains("pot-"), "made-up path became a label");
    let series = |t: &str| t.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(
        series(&after),
        series(&before),
        "metrics grew from {} to {} series",
        series(&before),
        series(&after)
    );
    assert!(after.contains("method=\"other\""), "{after}");
}

#[test]
fn every_error_is_json_and_echoes_little() {
    let backend = Backend::sqlite("hardening-errors");
    let key = create_key(&backend, "errors", false);
    let s = Server::start(&backend, &[]);
    let addr: SocketAddr = s.url.trim_start_matches("http://").parse().unwrap();
    let raw = |request: String| {
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(request.as_bytes()).unwrap();
        let (answer, _, _) = read_until_closed(&mut c, Duration::from_secs(5));
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        (head.to_string(), body.to_string())
    };
    let auth = format!("Authorization: Bearer {key}\r\n");
    let get = |target: &str| {
        raw(format!(
            "GET {target} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
        ))
    };
    let json_error = |head: &str, body: &str, status: &str, code: &str| {
        assert!(head.starts_with(&format!("HTTP/1.1 {status}")), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{head}"
        );
        let v: serde_json::Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(v["error"]["code"], code, "{body}");
        v["error"]["message"].as_str().unwrap().to_string()
    };

    // A 7,000-character id is not echoed whole.
    let (head, body) = get(&format!("/v1/products/{}", "x".repeat(7_000)));
    let message = json_error(&head, &body, "404", "not_found");
    assert!(message.len() < 200, "{message}");
    assert!(message.contains("7000 characters"), "{message}");

    // A path segment that is not UTF-8.
    let (head, body) = get("/v1/products/%FF%FE");
    json_error(&head, &body, "400", "bad_request");

    // A method the route does not have: 405 with Allow.
    let (head, body) = raw(format!(
        "PATCH /v1/search HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    ));
    json_error(&head, &body, "405", "method_not_allowed");
    assert!(head.to_ascii_lowercase().contains("allow: post"), "{head}");

    // An over-long request target.
    let (head, body) = get(&format!("/v1/products/a?{}", "q".repeat(9_000)));
    json_error(&head, &body, "414", "uri_too_long");

    // Unknown endpoint.
    let (head, body) = get("/v2/nothing");
    json_error(&head, &body, "404", "not_found");
}

/// SIGTERM (what systemd and container runtimes send) stops the server cleanly on both stores:
/// the background tasks stop, the store is flushed and the process exits 0. On PostgreSQL the
/// client's drop inside the async runtime once turned every shutdown into an abort.
fn stops_cleanly_on_sigterm(backend: Backend) {
    let key = create_key(&backend, "term", false);
    let server = Server::start(&backend, &[]);
    let url = format!("{}/v1/products/absent", server.url);
    let (status, _, _) = http("GET", &url, Some(&key), None);
    assert_eq!(status, 404);
    let exit = server.terminate();
    assert!(exit.success(), "serve ended with {exit} after SIGTERM");
}

both_stores!(stops_cleanly_on_sigterm);
