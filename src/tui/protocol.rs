//! Which way pictures reach the terminal: half-blocks, or a graphics protocol that the
//! terminal says it supports (or that `--protocol` forces).

use crate::cli::ProtocolArg;
use ratatui_image::picker::{Picker, ProtocolType};
use std::time::Duration;

/// How long the capability query waits for a terminal that may never answer.
const QUERY_TIMEOUT: Duration = Duration::from_millis(500);

/// What to do about graphics, decided from the flag and the environment alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Half-blocks, without asking the terminal.
    Halfblocks,
    /// Ask the terminal; use what it supports, forced to a protocol if given.
    Query(Option<ProtocolType>),
    /// Use the protocol without asking (multiplexers and dumb terminals answer nothing
    /// useful, and an unanswered query keeps a thread reading stdin).
    Assume(ProtocolType),
}

/// The plan for `arg` with `$TERM` = `term`, inside tmux when `in_tmux`.
pub fn plan(arg: ProtocolArg, term: &str, in_tmux: bool) -> Plan {
    let forced = match arg {
        ProtocolArg::Halfblocks => return Plan::Halfblocks,
        ProtocolArg::Auto => None,
        ProtocolArg::Sixel => Some(ProtocolType::Sixel),
        ProtocolArg::Kitty => Some(ProtocolType::Kitty),
        ProtocolArg::Iterm2 => Some(ProtocolType::Iterm2),
    };
    let multiplexed = in_tmux || term.starts_with("screen") || term.starts_with("tmux");
    let dumb = term.is_empty() || term == "dumb" || term == "linux";
    match forced {
        _ if !(multiplexed || dumb) => Plan::Query(forced),
        Some(p) => Plan::Assume(p),
        None => Plan::Halfblocks,
    }
}

/// Picks a graphics protocol, or `None` for half-blocks. Runs after the alternate screen is
/// entered and before any input is read.
pub fn choose(arg: ProtocolArg) -> Option<Picker> {
    let term = std::env::var("TERM").unwrap_or_default();
    let in_tmux = std::env::var_os("TMUX").is_some();
    match plan(arg, &term, in_tmux) {
        Plan::Halfblocks => None,
        Plan::Assume(p) => {
            let mut picker = Picker::halfblocks();
            picker.set_protocol_type(p);
            Some(picker)
        }
        Plan::Query(forced) => {
            let options = ratatui_image::picker::cap_parser::QueryStdioOptions {
                timeout: QUERY_TIMEOUT,
                // Deflated kitty transmissions when the terminal can inflate them: pixel art
                // shrinks many times over, which is what counts over SSH.
                kitty_compression: true,
                ..Default::default()
            };
            let mut picker = Picker::from_query_stdio_with_options(options)
                .unwrap_or_else(|_| Picker::halfblocks());
            match forced {
                Some(p) => picker.set_protocol_type(p),
                None if picker.protocol_type() == ProtocolType::Halfblocks => return None,
                None => {}
            }
            Some(picker)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplexers_and_dumb_terminals_are_not_asked() {
        assert_eq!(
            plan(ProtocolArg::Auto, "tmux-256color", false),
            Plan::Halfblocks
        );
        assert_eq!(
            plan(ProtocolArg::Auto, "xterm-256color", true),
            Plan::Halfblocks
        );
        assert_eq!(plan(ProtocolArg::Auto, "screen", false), Plan::Halfblocks);
        assert_eq!(plan(ProtocolArg::Auto, "", false), Plan::Halfblocks);
        assert_eq!(plan(ProtocolArg::Auto, "linux", false), Plan::Halfblocks);
        assert_eq!(
            plan(ProtocolArg::Sixel, "tmux-256color", true),
            Plan::Assume(ProtocolType::Sixel)
        );
    }

    #[test]
    fn other_terminals_are_asked() {
        assert_eq!(
            plan(ProtocolArg::Auto, "xterm-kitty", false),
            Plan::Query(None)
        );
        assert_eq!(
            plan(ProtocolArg::Kitty, "xterm-256color", false),
            Plan::Query(Some(ProtocolType::Kitty))
        );
        assert_eq!(
            plan(ProtocolArg::Halfblocks, "xterm-kitty", false),
            Plan::Halfblocks
        );
    }
}
