//! Which graphics protocol a terminal takes, decided from its replies to a few queries.
//! Everything here is a pure function over bytes: the caller writes [`query`], reads what
//! comes back until the DA1 reply (every terminal answers DA1, so it ends the wait) or a
//! timeout, and hands the bytes to [`Replies::parse`] and [`decide`].

/// Image id used by the kitty support query (plain RGB data).
pub const QUERY_ID: u32 = 31;
/// Image id used by the kitty deflate (`o=z`) support query.
pub const QUERY_ID_DEFLATE: u32 = 32;

/// The bytes to write to learn the terminal's graphics support: kitty graphics queries
/// (plain and deflated 1x1 pixel, `a=q` stores nothing), XTVERSION, the cell and window
/// size in pixels, and DA1 last. Inside tmux the kitty queries and XTVERSION also go out
/// wrapped for passthrough so the terminal outside tmux answers them.
pub fn query(in_tmux: bool) -> Vec<u8> {
    let mut kitty = Vec::new();
    kitty.extend_from_slice(
        format!("\x1b_Gi={QUERY_ID},s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\").as_bytes(),
    );
    // zlib of three zero bytes.
    kitty.extend_from_slice(
        format!("\x1b_Gi={QUERY_ID_DEFLATE},s=1,v=1,a=q,t=d,f=24,o=z;eJxjYGAAAAADAAE=\x1b\\")
            .as_bytes(),
    );
    let mut out = Vec::new();
    if in_tmux {
        out.extend_from_slice(&super::tmux::tmux_wrap(&kitty));
        out.extend_from_slice(&super::tmux::tmux_wrap(b"\x1b[>0q"));
    } else {
        out.extend_from_slice(&kitty);
    }
    out.extend_from_slice(b"\x1b[>0q\x1b[16t\x1b[14t\x1b[c");
    out
}

/// A terminal's name and version from its XTVERSION reply (`kitty(0.26.5)`, `XTerm(379)`,
/// `WezTerm 20230712-072601-f4abf8fd`, `tmux 3.3a`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermVersion {
    /// Lower-cased name (`kitty`, `xterm`, `wezterm`, `tmux`, `ghostty`...).
    pub name: String,
    /// The leading numbers of the version (`[0, 26, 5]`); empty when there are none.
    pub version: Vec<u32>,
}

impl TermVersion {
    /// Parses the text of an XTVERSION reply.
    pub fn parse(text: &str) -> Option<TermVersion> {
        let text = text.trim();
        let end = text
            .find(|c: char| c == '(' || c.is_whitespace())
            .unwrap_or(text.len());
        let name = text[..end].trim().to_ascii_lowercase();
        if name.is_empty() {
            return None;
        }
        let rest = text[end..].trim_start_matches(|c: char| c == '(' || c.is_whitespace());
        let mut version = Vec::new();
        for part in rest.split('.') {
            let digits: String = part.chars().take_while(|c| c.is_ascii_digit()).collect();
            match digits.parse::<u32>() {
                Ok(n) => version.push(n),
                Err(_) => break,
            }
            if digits.len() != part.len() {
                break;
            }
        }
        Some(TermVersion { name, version })
    }

    /// True when this is `name` at `min` or later (missing numbers count as 0).
    pub fn at_least(&self, name: &str, min: &[u32]) -> bool {
        if self.name != name || self.version.is_empty() {
            return false;
        }
        for (i, &m) in min.iter().enumerate() {
            let v = self.version.get(i).copied().unwrap_or(0);
            if v != m {
                return v > m;
            }
        }
        true
    }
}

/// What the terminal answered, each field `None` when no reply of that kind came.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replies {
    /// Text of every XTVERSION reply, in arrival order (inside tmux: tmux's own and, with
    /// passthrough, the outer terminal's).
    pub versions: Vec<TermVersion>,
    /// The kitty query with plain data: `Some(true)` for `OK`, `Some(false)` for an error.
    pub kitty: Option<bool>,
    /// The kitty query with deflated data.
    pub kitty_deflate: Option<bool>,
    /// DA1 attributes (`ESC [ ? 62 ; 4 ; 22 c` gives `[62, 4, 22]`).
    pub da1: Option<Vec<u32>>,
    /// Cell size in pixels (width, height) from `CSI 6 ; h ; w t`.
    pub cell: Option<(u16, u16)>,
    /// Text area size in pixels (width, height) from `CSI 4 ; h ; w t`.
    pub window: Option<(u32, u32)>,
}

impl Replies {
    /// Finds every reply it knows in `bytes` (other input, such as key presses that arrived
    /// meanwhile, is skipped). Truncated or malformed replies are ignored.
    pub fn parse(bytes: &[u8]) -> Replies {
        let mut r = Replies::default();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != 0x1b || i + 1 >= bytes.len() {
                i += 1;
                continue;
            }
            match bytes[i + 1] {
                // DCS: XTVERSION is `ESC P > | text ESC \`.
                b'P' => match find_st(bytes, i + 2) {
                    Some((body_end, next)) => {
                        let body = &bytes[i + 2..body_end];
                        if let Some(text) = body.strip_prefix(b">|") {
                            if let Some(v) =
                                std::str::from_utf8(text).ok().and_then(TermVersion::parse)
                            {
                                r.versions.push(v);
                            }
                        }
                        i = next;
                    }
                    None => break,
                },
                // APC: kitty's `ESC _ G i=31;OK ESC \`.
                b'_' => match find_st(bytes, i + 2) {
                    Some((body_end, next)) => {
                        r.kitty_reply(&bytes[i + 2..body_end]);
                        i = next;
                    }
                    None => break,
                },
                b'[' => {
                    let start = i + 2;
                    let mut j = start;
                    while j < bytes.len() && (0x30..=0x3f).contains(&bytes[j]) {
                        j += 1;
                    }
                    if j >= bytes.len() {
                        break;
                    }
                    r.csi_reply(&bytes[start..j], bytes[j]);
                    i = j + 1;
                }
                _ => i += 1,
            }
        }
        r
    }

    fn kitty_reply(&mut self, body: &[u8]) {
        let Some(body) = body.strip_prefix(b"G") else {
            return;
        };
        let Some(semi) = body.iter().position(|&b| b == b';') else {
            return;
        };
        let (keys, msg) = (&body[..semi], &body[semi + 1..]);
        let id = keys
            .split(|&b| b == b',')
            .find_map(|kv| kv.strip_prefix(b"i="))
            .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u32>().ok());
        let ok = msg == b"OK";
        match id {
            Some(QUERY_ID) => self.kitty = Some(ok),
            Some(QUERY_ID_DEFLATE) => self.kitty_deflate = Some(ok),
            _ => {}
        }
    }

    fn csi_reply(&mut self, params: &[u8], fin: u8) {
        let nums = |p: &[u8]| -> Option<Vec<u32>> {
            std::str::from_utf8(p)
                .ok()?
                .split(';')
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<u32>().ok())
                .collect()
        };
        match fin {
            b'c' => {
                if let Some(p) = params.strip_prefix(b"?") {
                    if let Some(v) = nums(p) {
                        self.da1 = Some(v);
                    }
                }
            }
            b't' => match nums(params).as_deref() {
                Some([6, h, w]) => {
                    let clamp = |v: u32| v.min(u16::MAX as u32) as u16;
                    self.cell = Some((clamp(*w), clamp(*h)));
                }
                Some([4, h, w]) => self.window = Some((*w, *h)),
                _ => {}
            },
            _ => {}
        }
    }

    /// True once the DA1 reply arrived: every terminal answers it, and it was asked last.
    pub fn complete(&self) -> bool {
        self.da1.is_some()
    }

    /// True when DA1 lists attribute 4 (sixel graphics).
    pub fn sixel(&self) -> bool {
        self.da1.as_ref().is_some_and(|a| a.contains(&4))
    }

    /// The terminal outside tmux, as far as the replies tell: the last version that is not
    /// tmux's own.
    pub fn terminal(&self) -> Option<&TermVersion> {
        self.versions.iter().rev().find(|v| v.name != "tmux")
    }
}

/// The end of a string started at `from`: (index of the ESC of `ESC \` or of BEL, index
/// after the terminator).
fn find_st(bytes: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut j = from;
    while j < bytes.len() {
        match bytes[j] {
            0x07 => return Some((j, j + 1)),
            0x1b if bytes.get(j + 1) == Some(&b'\\') => return Some((j, j + 2)),
            _ => j += 1,
        }
    }
    None
}

/// Where the caller runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Env {
    /// Inside tmux (`$TMUX` set).
    pub in_tmux: bool,
    /// tmux lets escape sequences through (`allow-passthrough on`).
    pub tmux_passthrough: bool,
}

/// How kitty pictures are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// `a=T`/`a=p` with image and placement ids at the cursor (every kitty).
    Classic,
    /// Unicode placeholders (`U=1`, kitty 0.28 and later): the picture is drawn where the
    /// placeholder characters are, so it survives tmux.
    Placeholders,
}

/// What the kitty encoder may send to this terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KittyMode {
    /// Classic placements or unicode placeholders.
    pub placement: Placement,
    /// Animation frames (`a=f`, kitty 0.20 and later): deltas. Without them every change
    /// re-transmits the whole (native-size) frame.
    pub animation: bool,
    /// `o=z` deflated data is understood.
    pub deflate: bool,
    /// Wrap every command for tmux passthrough.
    pub tmux: bool,
}

/// The protocol to draw pictures with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// kitty graphics, in this form.
    Kitty(KittyMode),
    /// DEC sixel.
    Sixel,
    /// Unicode half-blocks (no graphics protocol).
    Halfblocks,
}

/// Picks the protocol. kitty needs an `OK` to the query; placeholders need a kitty that
/// says it is 0.28 or later (they are refused with a parse error before), and inside tmux
/// nothing else works, so tmux without passthrough or without such a kitty gets sixel
/// (when tmux itself lists it in DA1) or half-blocks. Animation frames need a kitty that
/// says it is 0.20 or later; other terminals that answer the kitty query get whole frames.
pub fn decide(r: &Replies, env: Env) -> Protocol {
    let term = r.terminal();
    let kitty_at = |min: &[u32]| term.is_some_and(|t| t.at_least("kitty", min));
    if r.kitty == Some(true) && (!env.in_tmux || env.tmux_passthrough) {
        let placeholders = kitty_at(&[0, 28]);
        let mode = KittyMode {
            placement: if placeholders {
                Placement::Placeholders
            } else {
                Placement::Classic
            },
            animation: kitty_at(&[0, 20]),
            deflate: r.kitty_deflate == Some(true),
            tmux: env.in_tmux,
        };
        if !env.in_tmux || placeholders {
            return Protocol::Kitty(mode);
        }
    }
    if r.sixel() {
        Protocol::Sixel
    } else {
        Protocol::Halfblocks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KITTY_026: &[u8] = b"\x1b_Gi=31;OK\x1b\\\x1b_Gi=32;OK\x1b\\\x1bP>|kitty(0.26.5)\x1b\\\x1b[6;20;10t\x1b[4;1000;1600t\x1b[?62;c";

    #[test]
    fn versions_parse() {
        let v = TermVersion::parse("kitty(0.26.5)").unwrap();
        assert_eq!(
            (v.name.as_str(), v.version.as_slice()),
            ("kitty", &[0, 26, 5][..])
        );
        assert!(v.at_least("kitty", &[0, 20]));
        assert!(v.at_least("kitty", &[0, 26, 5]));
        assert!(!v.at_least("kitty", &[0, 28]));
        assert!(!v.at_least("xterm", &[0]));
        let v = TermVersion::parse("kitty(0.28.0)").unwrap();
        assert!(v.at_least("kitty", &[0, 28]));
        let v = TermVersion::parse("kitty(1.2)").unwrap();
        assert!(v.at_least("kitty", &[0, 28]));
        let v = TermVersion::parse("XTerm(379)").unwrap();
        assert_eq!(
            (v.name.as_str(), v.version.as_slice()),
            ("xterm", &[379][..])
        );
        let v = TermVersion::parse("tmux 3.3a").unwrap();
        assert_eq!(
            (v.name.as_str(), v.version.as_slice()),
            ("tmux", &[3, 3][..])
        );
        let v = TermVersion::parse("WezTerm 20230712-072601-f4abf8fd").unwrap();
        assert_eq!(v.name, "wezterm");
        let v = TermVersion::parse("kitty").unwrap();
        assert!(v.version.is_empty() && !v.at_least("kitty", &[0]));
        assert!(TermVersion::parse("").is_none());
        assert!(TermVersion::parse("  ").is_none());
    }

    #[test]
    fn kitty_026_replies_parse_and_get_classic_placements_with_animation() {
        let r = Replies::parse(KITTY_026);
        assert_eq!(r.kitty, Some(true));
        assert_eq!(r.kitty_deflate, Some(true));
        assert_eq!(r.terminal().unwrap().version, vec![0, 26, 5]);
        assert_eq!(r.cell, Some((10, 20)));
        assert_eq!(r.window, Some((1600, 1000)));
        assert_eq!(r.da1, Some(vec![62]));
        assert!(r.complete());
        assert_eq!(
            decide(&r, Env::default()),
            Protocol::Kitty(KittyMode {
                placement: Placement::Classic,
                animation: true,
                deflate: true,
                tmux: false
            })
        );
    }

    #[test]
    fn da1_with_a_trailing_semicolon_is_still_read() {
        // kitty 0.26 answers `CSI ? 62 ; c`: the empty field is skipped, and the reply
        // still ends the wait without claiming sixel.
        let r = Replies::parse(b"\x1b[?62;c");
        assert_eq!(r.da1, Some(vec![62]));
        assert!(r.complete() && !r.sixel());
        let r = Replies::parse(b"\x1b[?62;4;22c");
        assert_eq!(r.da1, Some(vec![62, 4, 22]));
        assert!(r.sixel());
    }

    #[test]
    fn newer_kitty_gets_placeholders_and_tmux_only_with_passthrough() {
        let r = Replies::parse(b"\x1b_Gi=31;OK\x1b\\\x1bP>|kitty(0.35.2)\x1b\\\x1b[?62;22c");
        let Protocol::Kitty(m) = decide(&r, Env::default()) else {
            panic!("not kitty")
        };
        assert_eq!(m.placement, Placement::Placeholders);
        assert!(m.animation && !m.deflate && !m.tmux);
        // In tmux with passthrough: tmux's own XTVERSION first, then kitty's.
        let r = Replies::parse(
            b"\x1b_Gi=31;OK\x1b\\\x1bP>|tmux 3.3a\x1b\\\x1bP>|kitty(0.35.2)\x1b\\\x1b[?1;2c",
        );
        let env = Env {
            in_tmux: true,
            tmux_passthrough: true,
        };
        let Protocol::Kitty(m) = decide(&r, env) else {
            panic!("not kitty in tmux")
        };
        assert_eq!(m.placement, Placement::Placeholders);
        assert!(m.tmux);
        // Passthrough off: half-blocks (tmux 3.3 lists no sixel).
        let env = Env {
            in_tmux: true,
            tmux_passthrough: false,
        };
        assert_eq!(decide(&r, env), Protocol::Halfblocks);
    }

    #[test]
    fn old_kitty_in_tmux_never_gets_placeholders() {
        let r = Replies::parse(
            b"\x1b_Gi=31;OK\x1b\\\x1bP>|tmux 3.3a\x1b\\\x1bP>|kitty(0.26.5)\x1b\\\x1b[?1;2c",
        );
        let env = Env {
            in_tmux: true,
            tmux_passthrough: true,
        };
        assert_eq!(decide(&r, env), Protocol::Halfblocks);
        // tmux built with sixel lists 4 in its own DA1.
        let r = Replies::parse(b"\x1bP>|tmux 3.4\x1b\\\x1b[?1;2;4c");
        assert_eq!(decide(&r, env), Protocol::Sixel);
    }

    #[test]
    fn other_kitty_protocol_terminals_get_whole_frames() {
        let r = Replies::parse(b"\x1b_Gi=31;OK\x1b\\\x1bP>|WezTerm 20240203\x1b\\\x1b[?65;4;6c");
        let Protocol::Kitty(m) = decide(&r, Env::default()) else {
            panic!("not kitty")
        };
        assert_eq!(m.placement, Placement::Classic);
        assert!(!m.animation);
        // No XTVERSION at all: still classic, whole frames.
        let r = Replies::parse(b"\x1b_Gi=31;OK\x1b\\\x1b[?62c");
        let Protocol::Kitty(m) = decide(&r, Env::default()) else {
            panic!("not kitty")
        };
        assert_eq!((m.placement, m.animation), (Placement::Classic, false));
    }

    #[test]
    fn xterm_vt340_gets_sixel() {
        let r =
            Replies::parse(b"\x1bP>|XTerm(379)\x1b\\\x1b[6;20;10t\x1b[?63;1;2;4;6;9;15;16;22;28c");
        assert_eq!(decide(&r, Env::default()), Protocol::Sixel);
        assert_eq!(r.cell, Some((10, 20)));
    }

    #[test]
    fn kitty_errors_silence_and_garbage_give_no_kitty() {
        let r = Replies::parse(b"\x1b_Gi=31;ENOTSUPPORTED:no\x1b\\\x1b[?62;4c");
        assert_eq!(r.kitty, Some(false));
        assert_eq!(decide(&r, Env::default()), Protocol::Sixel);
        // No answer at all.
        let r = Replies::parse(b"");
        assert!(!r.complete());
        assert_eq!(decide(&r, Env::default()), Protocol::Halfblocks);
        // Key presses mixed in, replies cut off, stray ESCs and bytes.
        let r = Replies::parse(b"q\x1b\x1b[A\x1b_Gi=31;OK\x1b\\jk\x1b[?62;4");
        assert_eq!(r.kitty, Some(true));
        assert!(r.da1.is_none());
        let r = Replies::parse(b"\x1bP>|kitty(0.26");
        assert!(r.versions.is_empty());
        // Replies for other ids, absurd numbers.
        let r = Replies::parse(b"\x1b_Gi=7;OK\x1b\\\x1b[6;99999999;0t\x1b[6;x;1t");
        assert_eq!(r.kitty, None);
        assert_eq!(r.cell, Some((0, u16::MAX)));
        assert_eq!(
            super::super::sane_cell_size(r.cell),
            super::super::DEFAULT_CELL
        );
    }

    #[test]
    fn every_byte_sequence_parses_without_panic() {
        // A cheap fuzz over prefixes and single-byte edits of real replies.
        let base = [KITTY_026, b"\x1bP>|tmux 3.3a\x1b\\\x1b[?1;2;4c"].concat();
        for cut in 0..base.len() {
            let _ = Replies::parse(&base[..cut]);
            for b in [0x1b, b'\\', b';', b'P', b'_', 0x07, 0xff] {
                let mut v = base.clone();
                v[cut] = b;
                let _ = decide(&Replies::parse(&v), Env::default());
            }
        }
    }

    #[test]
    fn the_query_ends_with_da1_and_wraps_for_tmux() {
        let q = query(false);
        assert!(q.ends_with(b"\x1b[c"));
        assert!(q.starts_with(b"\x1b_Gi=31,"));
        assert!(!q.windows(5).any(|w| w == b"Ptmux"));
        let q = query(true);
        assert!(q.starts_with(b"\x1bPtmux;\x1b\x1b_Gi=31,"));
        assert!(q.ends_with(b"\x1b[c"));
    }
}
