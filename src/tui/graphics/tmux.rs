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
