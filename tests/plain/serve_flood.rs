//! `serve` under a connection flood, on loopback: connections that send half a request head
//! and nothing more cannot keep a normal client out, and a connection over the limit is
//! answered at once. 500 sockets stay under the usual default of 1024 open files, so the
//! test needs no raised limit.

use crate::common;
use crate::common::serve as serve_support;

use common::gbwatch;
use serve_support::{get_ok, serve, StreamClient};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const FLOOD: usize = 500;

/// Opens a connection and sends the start of a request head, never its end.
fn half_open(addr: SocketAddr) -> Option<TcpStream> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n").ok()?;
    Some(s)
}

/// One `GET path` with `Connection: close`: status and how long the whole answer took.
fn timed_get(addr: SocketAddr, path: &str) -> (u16, Duration) {
    let start = Instant::now();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    let head = String::from_utf8_lossy(&all[..all.len().min(64)]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no answer in {:?}: {head:?}", start.elapsed()));
    (status, start.elapsed())
}

#[test]
fn half_open_connections_cannot_keep_a_client_out() {
    let server = serve(gbwatch(), &["demo"]);
    let addr = server.addr;
    get_ok(addr, "/api/screenshot", Duration::from_secs(20));
    let mut held = Vec::new();
    for _ in 0..FLOOD {
        match half_open(addr) {
            Some(s) => held.push(s),
            // A server that stopped accepting: the client below will show it.
            None => break,
        }
    }
    let (status, took) = timed_get(addr, "/api/screenshot");
    assert_eq!(status, 200, "after {} half-open connections", held.len());
    assert!(
        took < Duration::from_secs(1),
        "answered in {took:?} with {} half-open connections held",
        held.len()
    );
    assert_eq!(held.len(), FLOOD);
    drop(held);
}

#[test]
fn a_connection_over_the_limit_is_answered_503_at_once() {
    let server = serve(gbwatch(), &["demo"]);
    let addr = server.addr;
    get_ok(addr, "/api/screenshot", Duration::from_secs(20));
    // Every slot busy with a stream: nothing to close to make room.
    let streams: Vec<StreamClient> = (0..gbwatch::serve::MAX_CONNECTIONS)
        .map(|_| StreamClient::open(addr, "/stream"))
        .collect();
    assert!(streams.iter().all(|s| s.status == 200));
    let (status, took) = timed_get(addr, "/api/screenshot");
    assert_eq!(status, 503);
    assert!(took < Duration::from_secs(1), "{took:?}");
    drop(streams);
}
