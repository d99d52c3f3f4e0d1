//! `gbwatch completions SHELL` and `gbwatch man`: generated from the same clap definition as
//! the parser, so they never drift from it.

use super::print_stdout;
use super::UsageError;
use crate::cli::{Cli, CompletionsArgs, ManArgs};
use clap::CommandFactory;

/// Prints the completion script for `args.shell` (clap_complete).
pub fn completions(args: CompletionsArgs) -> anyhow::Result<()> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "gbwatch", &mut out);
    print_stdout(&String::from_utf8_lossy(&out))
}

/// Prints a manual page in roff (clap_mangen): gbwatch(1), or gbwatch-SUBCOMMAND(1) with
/// that subcommand's arguments.
pub fn man(args: ManArgs) -> anyhow::Result<()> {
    let mut cmd = Cli::command();
    cmd.build();
    let page = match &args.subcommand {
        None => cmd,
        Some(name) => {
            let sub = cmd
                .find_subcommand(name)
                .filter(|s| s.get_name() != "help")
                .ok_or_else(|| {
                    let names: Vec<String> = Cli::command()
                        .get_subcommands()
                        .map(|s| s.get_name().to_string())
                        .filter(|n| n != "help")
                        .collect();
                    UsageError(format!(
                        "no subcommand '{name}' (subcommands: {})",
                        names.join(", ")
                    ))
                })?;
            let full = format!("gbwatch-{}", sub.get_name());
            sub.clone().name(full.clone()).bin_name(full)
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page).render(&mut out)?;
    print_stdout(&String::from_utf8_lossy(&out))
}
