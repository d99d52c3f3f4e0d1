//! Which way pictures reach the terminal: half-blocks, or a graphics protocol that the
//! terminal says it supports (or that `--protocol` forces). kitty and sixel are drawn by
//! [`super::graphics`]; iTerm2 (forced only) by ratatui-image.

use super::graphics::caps::{self, KittyMode, Placement, Protocol, Replies};
use super::graphics::sane_cell_size;
use ratatui_image::picker::{Picker, ProtocolType};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// How the monitor draws frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProtocolArg {
    /// The best the terminal supports (kitty, sixel, iTerm2), else half-blocks.
    Auto,
    /// Unicode half-blocks: works in every terminal, tmux and over SSH.
    Halfblocks,
    /// Sixel graphics.
    Sixel,
    /// The kitty graphics protocol.
    Kitty,
    /// iTerm2 inline images.
    Iterm2,
}

/// How long the capability query waits for a terminal that may never answer.
const QUERY_TIMEOUT: Duration = Duration::from_millis(500);

/// What to do about graphics, decided from the flag and the environment alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Half-blocks, without asking the terminal.
    Halfblocks,
    /// Ask the terminal; use what it supports, or the forced protocol in a form it takes.
    Query(Wanted),
    /// iTerm2 through ratatui-image, without asking.
    Iterm2,
}

/// What the terminal is queried for: the `--protocol` values that ask it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// The best protocol it supports, else half-blocks (`auto`).
    Best,
    /// Sixel, whatever it says.
    Sixel,
    /// kitty, in the most cautious form the replies allow.
    Kitty,
}

/// The plan for `arg` with `$TERM` = `term`. tmux is asked too (its replies, and the outer
/// terminal's through passthrough, decide); GNU screen and dumb terminals are not.
pub fn plan(arg: ProtocolArg, term: &str) -> Plan {
    let dumb = term.is_empty() || term == "dumb" || term == "linux" || term.starts_with("screen");
    match arg {
        ProtocolArg::Halfblocks => Plan::Halfblocks,
        ProtocolArg::Iterm2 => Plan::Iterm2,
        ProtocolArg::Auto if dumb => Plan::Halfblocks,
        ProtocolArg::Auto => Plan::Query(Wanted::Best),
        ProtocolArg::Sixel => Plan::Query(Wanted::Sixel),
        ProtocolArg::Kitty => Plan::Query(Wanted::Kitty),
    }
}

/// How the monitor draws pictures.
#[derive(Debug, Clone)]
pub struct Choice {
    /// kitty, sixel or half-blocks.
    pub protocol: Protocol,
    /// Cell size in pixels (a default when the terminal reports none or an absurd one).
    pub cell: (u16, u16),
    /// iTerm2 pictures (forced with `--protocol iterm2`), drawn by ratatui-image.
    pub iterm2: Option<Picker>,
    /// Something the user should know about the choice, for the status bar (tmux's
    /// `allow-passthrough` was turned on for this pane).
    pub note: Option<String>,
}

impl Choice {
    /// Half-blocks, nothing asked.
    pub fn halfblocks() -> Choice {
        Choice {
            protocol: Protocol::Halfblocks,
            cell: sane_cell_size(None),
            iterm2: None,
            note: None,
        }
    }
}

/// The protocol for `wanted` given the terminal's `replies`, inside tmux (`env`): what the
/// terminal supports, or a forced protocol in the most conservative form it could take
/// (classic kitty placements, no deflate or animation frames unless the terminal said so).
pub fn decide(wanted: Wanted, replies: &Replies, env: caps::Env) -> Protocol {
    let found = caps::decide(replies, env);
    match wanted {
        Wanted::Kitty => match found {
            Protocol::Kitty(mode) => Protocol::Kitty(mode),
            _ => {
                let kitty_at =
                    |min: &[u32]| replies.terminal().is_some_and(|t| t.at_least("kitty", min));
                Protocol::Kitty(KittyMode {
                    placement: if env.in_tmux {
                        Placement::Placeholders
                    } else {
                        Placement::Classic
                    },
                    animation: kitty_at(&[0, 20]),
                    deflate: replies.kitty_deflate == Some(true),
                    tmux: env.in_tmux,
                })
            }
        },
        Wanted::Sixel => Protocol::Sixel,
        Wanted::Best => found,
    }
}

/// Picks how to draw. Runs after the alternate screen is entered and before any input is
/// read: the terminal's replies arrive on standard input.
pub fn choose(arg: ProtocolArg) -> Choice {
    let term = std::env::var("TERM").unwrap_or_default();
    let reported_cell = || {
        crossterm::terminal::window_size()
            .ok()
            .filter(|w| w.columns > 0 && w.rows > 0 && w.width > 0 && w.height > 0)
            .map(|w| (w.width / w.columns, w.height / w.rows))
    };
    match plan(arg, &term) {
        Plan::Halfblocks => Choice::halfblocks(),
        Plan::Iterm2 => {
            let mut picker = Picker::halfblocks();
            picker.set_protocol_type(ProtocolType::Iterm2);
            Choice {
                protocol: Protocol::Halfblocks,
                cell: sane_cell_size(reported_cell()),
                iterm2: Some(picker),
                note: None,
            }
        }
        Plan::Query(wanted) => {
            let in_tmux = std::env::var_os("TMUX").is_some();
            let passthrough = in_tmux && tmux_passthrough_on();
            let replies = query_terminal(in_tmux, QUERY_TIMEOUT);
            let env = caps::Env {
                in_tmux,
                tmux_passthrough: passthrough,
            };
            let protocol = decide(wanted, &replies, env);
            let note = passthrough.then(|| "tmux passthrough on".to_string());
            Choice {
                protocol,
                cell: sane_cell_size(replies.cell.or_else(reported_cell)),
                iterm2: None,
                note,
            }
        }
    }
}

/// Turns tmux's `allow-passthrough` on for this pane only (as timg does), so kitty graphics
/// reach the terminal outside; true when tmux took it.
fn tmux_passthrough_on() -> bool {
    std::process::Command::new("tmux")
        .args(["set-option", "-p", "allow-passthrough", "on"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Writes the capability query and collects the replies until DA1 (which every terminal
/// answers, and which is asked last) or `timeout`.
fn query_terminal(in_tmux: bool, timeout: Duration) -> Replies {
    let mut out = std::io::stdout();
    if out
        .write_all(&caps::query(in_tmux))
        .and_then(|_| out.flush())
        .is_err()
    {
        return Replies::default();
    }
    let stdin = std::io::stdin();
    let fd = stdin.as_raw_fd();
    let deadline = Instant::now() + timeout;
    let mut bytes = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `pfd` is one valid pollfd that lives across the call.
        let n = unsafe { libc::poll(&mut pfd, 1, left.as_millis().max(1) as libc::c_int) };
        if n <= 0 || pfd.revents & libc::POLLIN == 0 {
            if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        let mut buf = [0u8; 1024];
        // SAFETY: `buf` is writable for its whole length.
        let got = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if got <= 0 {
            break;
        }
        bytes.extend_from_slice(&buf[..got as usize]);
        if Replies::parse(&bytes).complete() {
            break;
        }
    }
    Replies::parse(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KITTY_026: &[u8] =
        b"\x1b_Gi=31;OK\x1b\\\x1b_Gi=32;OK\x1b\\\x1bP>|kitty(0.26.5)\x1b\\\x1b[?62;c";

    #[test]
    fn dumb_terminals_are_not_asked() {
        assert_eq!(plan(ProtocolArg::Auto, "screen"), Plan::Halfblocks);
        assert_eq!(plan(ProtocolArg::Auto, ""), Plan::Halfblocks);
        assert_eq!(plan(ProtocolArg::Auto, "linux"), Plan::Halfblocks);
        assert_eq!(
            plan(ProtocolArg::Halfblocks, "xterm-kitty"),
            Plan::Halfblocks
        );
        assert_eq!(plan(ProtocolArg::Iterm2, "xterm"), Plan::Iterm2);
    }

    #[test]
    fn other_terminals_and_tmux_are_asked() {
        for term in ["xterm-kitty", "xterm-256color", "tmux-256color"] {
            assert_eq!(plan(ProtocolArg::Auto, term), Plan::Query(Wanted::Best));
        }
        assert_eq!(
            plan(ProtocolArg::Sixel, "screen"),
            Plan::Query(Wanted::Sixel)
        );
    }

    #[test]
    fn a_forced_kitty_is_sent_in_a_form_a_mute_terminal_cannot_reject() {
        let none = Replies::default();
        let p = decide(Wanted::Kitty, &none, caps::Env::default());
        assert_eq!(
            p,
            Protocol::Kitty(KittyMode {
                placement: Placement::Classic,
                animation: false,
                deflate: false,
                tmux: false,
            })
        );
        assert_eq!(
            decide(Wanted::Best, &none, caps::Env::default()),
            Protocol::Halfblocks
        );
        assert_eq!(
            decide(Wanted::Sixel, &none, caps::Env::default()),
            Protocol::Sixel
        );
    }

    #[test]
    fn kitty_026_gets_classic_placements_with_deltas() {
        let r = Replies::parse(KITTY_026);
        let want = Protocol::Kitty(KittyMode {
            placement: Placement::Classic,
            animation: true,
            deflate: true,
            tmux: false,
        });
        assert_eq!(decide(Wanted::Best, &r, caps::Env::default()), want);
        assert_eq!(decide(Wanted::Kitty, &r, caps::Env::default()), want);
    }
}
