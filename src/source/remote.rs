//! A remote `gbwatch serve`, named by its base URL (`http://HOST:PORT`), expands into one
//! feed per source it serves, named `HOST:PORT/ENV` (or `LABEL/ENV` for `LABEL@URL`), and
//! follows the sources that appear and disappear there.
//!
//! One background thread per remote asks its `/api/sources` once a second; scans read the
//! newest answer and never wait on the network (except the very first, which waits for the
//! first answer so a command sees the remote's envs from the start). A server that has no
//! `/api/sources` (any other HTTP server) is one feed, as before.

use super::http::{HttpOptions, HttpSource, HttpUrl};
use super::{Poll, Source, SourceError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How often a remote's source list is asked for.
const LIST_EVERY: Duration = Duration::from_secs(1);
/// A remote no scan asked about for this long stops being polled.
const FORGET_AFTER: Duration = Duration::from_secs(10);

/// What the newest answer to `/api/sources` said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    /// A gbwatch serve with these sources (in its order).
    Sources(Vec<String>),
    /// An HTTP server that is not a gbwatch serve: the URL is one source, as before.
    NotGbwatch,
    /// The server did not answer; the reason, one line.
    Unreachable(String),
}

/// One remote `gbwatch serve` and its newest source list.
#[derive(Debug)]
pub struct Remote {
    base: HttpUrl,
    state: Mutex<RemoteState>,
}

#[derive(Debug)]
struct RemoteState {
    listing: Listing,
    /// The sources of the last successful answer, kept while the remote is unreachable so
    /// that its feeds stay (offline) instead of vanishing.
    last_sources: Option<Vec<String>>,
    last_asked: Instant,
}

fn registry() -> &'static Mutex<HashMap<String, Arc<Remote>>> {
    static REMOTES: OnceLock<Mutex<HashMap<String, Arc<Remote>>>> = OnceLock::new();
    REMOTES.get_or_init(Mutex::default)
}

impl Remote {
    /// The remote at `base`, asked once (waiting for its first answer) when it is new.
    pub fn get(base: &HttpUrl) -> Arc<Remote> {
        let key = base.as_str().to_string();
        if let Some(r) = registry().lock().unwrap().get(&key) {
            r.state.lock().unwrap().last_asked = Instant::now();
            return r.clone();
        }
        let listing = ask(base);
        let remote = Arc::new(Remote {
            base: base.clone(),
            state: Mutex::new(RemoteState {
                last_sources: match &listing {
                    Listing::Sources(s) => Some(s.clone()),
                    _ => None,
                },
                listing,
                last_asked: Instant::now(),
            }),
        });
        registry()
            .lock()
            .unwrap()
            .insert(key.clone(), remote.clone());
        let r = remote.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("remote {}", base.as_str()))
            .spawn(move || r.keep_asking(&key));
        if spawned.is_err() {
            registry().lock().unwrap().remove(base.as_str());
        }
        remote
    }

    fn keep_asking(self: Arc<Remote>, key: &str) {
        loop {
            std::thread::sleep(LIST_EVERY);
            if self.state.lock().unwrap().last_asked.elapsed() >= FORGET_AFTER {
                let mut map = registry().lock().unwrap();
                if map.get(key).is_some_and(|r| Arc::ptr_eq(r, &self)) {
                    map.remove(key);
                }
                return;
            }
            let listing = ask(&self.base);
            let mut st = self.state.lock().unwrap();
            if let Listing::Sources(s) = &listing {
                st.last_sources = Some(s.clone());
            }
            st.listing = listing;
        }
    }

    /// The newest answer.
    pub fn listing(&self) -> Listing {
        self.state.lock().unwrap().listing.clone()
    }

    /// The sources to show now: the newest list, or the last one while the remote does not
    /// answer; `None` when it never answered as a gbwatch serve.
    pub fn sources(&self) -> Option<Vec<String>> {
        let st = self.state.lock().unwrap();
        match &st.listing {
            Listing::Sources(s) => Some(s.clone()),
            Listing::NotGbwatch => None,
            Listing::Unreachable(_) => st.last_sources.clone(),
        }
    }

    /// True when the remote answered and `env` is no longer among its sources.
    pub fn dropped(&self, env: &str) -> bool {
        matches!(&self.state.lock().unwrap().listing, Listing::Sources(s) if !s.iter().any(|n| n == env))
    }
}

/// Asks `base`'s `/api/sources` once.
fn ask(base: &HttpUrl) -> Listing {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(1)))
        .timeout_recv_response(Some(Duration::from_secs(2)))
        .timeout_recv_body(Some(Duration::from_secs(2)))
        .user_agent(concat!("gbwatch/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let url = format!("{}api/sources", base.as_str());
    let mut resp = match agent.get(&url).call() {
        Ok(r) => r,
        Err(e) => return Listing::Unreachable(super::http::network_reason(&e)),
    };
    if !resp.status().is_success() {
        return Listing::NotGbwatch;
    }
    let body = resp
        .body_mut()
        .with_config()
        .limit(4 * 1024 * 1024)
        .read_to_vec();
    match body {
        Ok(b) => parse_listing(&b).map_or(Listing::NotGbwatch, Listing::Sources),
        Err(e) => Listing::Unreachable(super::http::network_reason(&e)),
    }
}

/// The source names of a gbwatch `/api/sources` answer (sources that are gone left out);
/// `None` when the body is not one.
pub fn parse_listing(body: &[u8]) -> Option<Vec<String>> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut names = Vec::new();
    for entry in v.as_array()? {
        let name = entry.get("name")?.as_str()?;
        let state = entry.get("state")?.as_str()?;
        if state != "gone" {
            names.push(name.to_string());
        }
    }
    Some(names)
}

/// One env of a remote serve: its `/stream?source=ENV`, retired once the remote no longer
/// lists it.
pub struct RemoteEnvSource {
    name: String,
    env: String,
    remote: Arc<Remote>,
    stream: HttpSource,
}

impl RemoteEnvSource {
    /// Starts reading `env` of `remote`; the feed is called `name`.
    pub fn open(name: String, remote: Arc<Remote>, env: String) -> Result<Self, SourceError> {
        let url = format!(
            "{}stream?source={}",
            remote.base.as_str(),
            percent_encoding::utf8_percent_encode(&env, percent_encoding::NON_ALPHANUMERIC)
        );
        let url = HttpUrl::parse(&url).map_err(|e| SourceError::Other(e.to_string()))?;
        Ok(RemoteEnvSource {
            name,
            env,
            remote,
            stream: HttpSource::open(url, HttpOptions::default())?,
        })
    }
}

impl Source for RemoteEnvSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn poll(&mut self) -> Result<Poll, SourceError> {
        if self.remote.dropped(&self.env) {
            return Ok(Poll::Gone);
        }
        self.stream.poll()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings() {
        let body = br#"[{"name":"env-0","state":"online"},{"name":"a/b","state":"gone"},
            {"name":"env-1","state":"offline: x"}]"#;
        assert_eq!(
            parse_listing(body),
            Some(vec!["env-0".to_string(), "env-1".to_string()])
        );
        assert_eq!(parse_listing(b"[]"), Some(vec![]));
        for bad in [
            &b"{}"[..],
            b"<html>",
            b"[1]",
            br#"[{"name":1,"state":"x"}]"#,
        ] {
            assert_eq!(parse_listing(bad), None);
        }
    }
}
