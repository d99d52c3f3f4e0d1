//! Tests over a real OpenSSH server on loopback and in real headless Chromium.

#[path = "../common/mod.rs"]
pub mod common;

mod map_browser;
mod map_ssh;
mod readme_commands;
mod serve_browser;
mod slurm_source;
mod ssh_install;
mod ssh_source;
