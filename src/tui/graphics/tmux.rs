//! tmux passthrough: escape codes a terminal inside tmux should see, wrapped so tmux
//! hands them on.

/// Wraps escape codes for tmux passthrough (`ESC P tmux; ... ESC \`, every ESC doubled).
pub fn tmux_wrap(cmd: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(cmd.len() + 16);
    out.extend_from_slice(b"\x1bPtmux;");
    for &b in cmd {
        if b == 0x1b {
            out.push(0x1b);
        }
        out.push(b);
    }
    out.extend_from_slice(b"\x1b\\");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_escape_is_doubled_inside_the_passthrough() {
        assert_eq!(
            tmux_wrap(b"\x1b_Gx\x1b\\"),
            b"\x1bPtmux;\x1b\x1b_Gx\x1b\x1b\\\x1b\\"
        );
    }
}
