//! `gbwatch serve`: the dashboard and its HTTP endpoints on the capture pipeline.

use super::history::history_from;
use super::{start_feeds_with, Shutdown, Terminated, UsageError};
use crate::cli::ServeArgs;
use crate::encode::Backend;
use crate::serve::Server;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::time::Duration;

/// Resolves `--bind` to one address; a mistake is a usage error.
pub fn parse_bind(bind: &str) -> Result<SocketAddr, UsageError> {
    let bad = |why: String| {
        UsageError(format!(
            "--bind {bind}: {why} (expected HOST:PORT, e.g. 127.0.0.1:8080)"
        ))
    };
    let mut addrs = bind.to_socket_addrs().map_err(|e| bad(e.to_string()))?;
    addrs.next().ok_or_else(|| bad("no address".into()))
}

/// Runs `gbwatch serve`: serves the dashboard and endpoints on `--bind` until a termination
/// signal, then prints a summary line. Feeds' state changes go to stderr as they happen.
pub fn run(args: ServeArgs, shutdown: &Shutdown) -> anyhow::Result<()> {
    let addr = parse_bind(&args.bind)?;
    let listener =
        TcpListener::bind(addr).map_err(|e| UsageError(format!("cannot listen on {addr}: {e}")))?;
    let layout = match &args.map_layout {
        Some(path) => Some(std::sync::Arc::new(crate::pipeline::WorldLayout::load(
            path,
        )?)),
        None => None,
    };
    let history = history_from(&args.history, Duration::from_secs(30))?;
    let mut started = start_feeds_with(&args.source, &args.preset, history, shutdown)?;
    let set = started.set.clone();
    set.positions.set_layout(layout);
    let server = Server::start(listener, set.clone(), Backend::best(), shutdown.cancel())?;
    let bound = server.local_addr();
    if !bound.ip().is_loopback() {
        eprintln!(
            "gbwatch: warning: listening on {bound}, not loopback: anyone who can reach it sees the frames and can change the preset (there is no authentication); prefer 127.0.0.1 and an SSH tunnel"
        );
    }
    eprintln!("gbwatch: serving on http://{bound}/ (Ctrl-C to stop)");
    let cancel = shutdown.cancel();
    while !cancel.sleep(Duration::from_millis(100)) {
        started.log.update(&set);
    }
    let app = server.app.clone();
    server.stop();
    set.stop();
    let captured: u64 = set.feeds().iter().map(|f| f.snapshot().captured).sum();
    eprintln!(
        "gbwatch: served {} stream parts from {} sources ({captured} frames captured)",
        app.parts_sent(),
        set.feeds().len()
    );
    match shutdown.received() {
        Some(signal) => Err(Terminated(signal).into()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_addresses() {
        assert_eq!(parse_bind("127.0.0.1:8080").unwrap().port(), 8080);
        assert!(parse_bind("localhost:0").unwrap().ip().is_loopback());
        assert!(parse_bind("[::1]:9000").is_ok());
        for bad in ["8080", "127.0.0.1", "127.0.0.1:99999", ""] {
            assert!(parse_bind(bad).is_err(), "{bad}");
        }
    }
}
