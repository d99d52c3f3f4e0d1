//! Tests over a real OpenSSH server on loopback and in real headless Chromium.

#[path = "../common/mod.rs"]
pub mod common;

mod serve_browser;
mod ssh_source;
