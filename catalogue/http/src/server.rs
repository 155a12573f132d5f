//! The connection layer under the router: accepts TCP connections and serves HTTP/1.1 on them
//! with limits a slow or greedy client cannot get around (`axum::serve` has none):
//!
//! - **header timeout**: a request's headers must arrive within `header_timeout` of the
//!   connection starting to wait for them, idle keep-alive connections included (hyper's
//!   `header_read_timeout`), so headers sent a byte at a time cannot hold a connection;
//! - **request timeout**: reading the body and answering must finish within `request_timeout`,
//!   else the answer is 408 in the API's JSON shape and the connection closes (the
//!   `request_deadline` middleware in `mod.rs`);
//! - **connection caps**: at most `max_connections` open at once (further clients wait in the
//!   kernel's backlog), and at most `max_connections_per_ip` from one address (more are answered
//!   503 in the API's JSON shape and closed at once), so one address cannot take them all.
//!
//! What one slow address can hold is therefore bounded: `max_connections_per_ip` connections,
//! each for at most `header_timeout` without sending a complete request head, or
//! `request_timeout` once it has.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Limits on connections and on how long a client may take.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnLimits {
    /// Time to send a complete request head, counted from when the server starts waiting for
    /// it (a new connection, or an idle keep-alive one).
    pub header_timeout: Duration,
    /// Time to send the body and get the answer, counted from the end of the head.
    pub request_timeout: Duration,
    /// Open connections in all; more wait in the listen backlog.
    pub max_connections: usize,
    /// Open connections from one IP address; more are refused with 503.
    pub max_connections_per_ip: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
            // Many phones can share one address (carrier NAT); a browser opens about 6.
            max_connections_per_ip: 128,
        }
    }
}

/// Open connections per address; a [`Slot`] gives its place back when dropped.
#[derive(Default, Clone)]
struct PerIp(Arc<Mutex<HashMap<IpAddr, usize>>>);

struct Slot {
    ip: IpAddr,
    table: PerIp,
}

impl PerIp {
    fn take(&self, ip: IpAddr, max: usize) -> Option<Slot> {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = t.entry(ip).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot {
            ip,
            table: self.clone(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut t = self.table.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = t.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                t.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open requests finish.
pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_ip = PerIp::default();
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = permits.clone().acquire_owned() => p.expect("semaphore never closed"),
        };
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(slot) = per_ip.take(peer.ip(), limits.max_connections_per_ip) else {
            tokio::spawn(refuse(stream, peer, limits.max_connections_per_ip));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // Header timeouts, resets and the like end the connection; nothing to report.
            let _ = conn.await;
            drop((slot, permit));
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Answers 503 (JSON) to a connection over the per-address cap and closes it.
async fn refuse(mut stream: TcpStream, peer: SocketAddr, max: usize) {
    tracing::warn!(%peer, max, "connection refused: too many from this address");
    let body = serde_json::json!({"error": {
        "code": "too_many_connections",
        "message": format!("more than {max} open connections from this address; close some and retry"),
    }})
    .to_string();
    let resp = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        stream.write_all(resp.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_ip_slots_are_capped_and_given_back() {
        let t = PerIp::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let s1 = t.take(a, 2).unwrap();
        let _s2 = t.take(a, 2).unwrap();
        assert!(t.take(a, 2).is_none(), "third from one address");
        assert!(t.take(b, 2).is_some(), "another address is not affected");
        drop(s1);
        assert!(t.take(a, 2).is_some(), "a closed connection frees its slot");
    }
}
