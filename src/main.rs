//! The `gbwatch` binary: parses the command line and runs the chosen subcommand.

use clap::Parser;
use gbwatch::cli::Cli;
use gbwatch::cmd;
use std::process::ExitCode;

fn main() -> ExitCode {
    match Cli::try_parse() {
        Ok(cli) => cmd::run(cli),
        Err(e) => cmd::usage_error_exit(e),
    }
}
