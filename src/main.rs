//! The `gbwatch` binary: parses the command line and runs the chosen subcommand.

use clap::Parser;
use gbwatch::cli::{Cli, Command};
use gbwatch::cmd;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return cmd::usage_error_exit(e),
    };
    let result = match cli.command {
        Some(Command::List(args)) => cmd::list::run(args),
        Some(Command::Dump(args)) => cmd::dump::run(args),
        Some(Command::Stats(args)) => cmd::stats::run(args),
        Some(Command::Record(args)) => cmd::record::run(args),
        Some(Command::Serve(args)) => cmd::serve::run(args),
        Some(Command::Relay(args)) => cmd::relay::run(args),
        Some(Command::Watch(args)) => cmd::watch::run(args),
        Some(Command::Completions(args)) => cmd::docs::completions(args),
        Some(Command::Man(args)) => cmd::docs::man(args),
        None => match cmd::check_subcommand_typo(&cli.watch.source.sources) {
            Ok(()) => cmd::watch::run(cli.watch),
            Err(e) => Err(e.into()),
        },
    };
    cmd::finish(result)
}
