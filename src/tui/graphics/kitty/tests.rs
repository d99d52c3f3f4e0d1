//! The state machine's tests: every stream of escape codes is fed to a model of kitty.

use super::model::Model;
use super::*;

fn mode(animation: bool, deflate: bool) -> KittyMode {
    KittyMode {
        placement: Placement::Classic,
        animation,
        deflate,
        tmux: false,
    }
}

/// A 160x144 frame of four grey levels in 8x8 tiles, with a "sprite" at (sx, sy).
pub(super) fn frame(sx: usize, sy: usize) -> Vec<u8> {
    let mut f = Vec::with_capacity(160 * 144 * 4);
    for y in 0..144 {
        for x in 0..160 {
            let mut v = [0xe0u8, 0xa8, 0x58, 0x18][(x / 8 + y / 8) % 4];
            if (sx..sx + 16).contains(&x) && (sy..sy + 16).contains(&y) {
                v = 0x30 + (x - sx) as u8 * 8;
            }
            f.extend_from_slice(&[v, v, 255 - v, 255]);
        }
    }
    f
}

const PLACE: CellPlacement = CellPlacement {
    col: 3,
    row: 2,
    cols: 32,
    rows: 14,
};

#[test]
fn a_stream_rebuilds_every_frame_exactly_and_unchanged_frames_cost_nothing() {
    for (animation, deflate, opts) in [
        (true, true, KittyOptions::default()),
        (true, false, KittyOptions::default()),
        (
            true,
            true,
            KittyOptions {
                pixels: PixelData::Rgba,
                rects: Rects::One,
                level: 1,
            },
        ),
        (false, true, KittyOptions::default()),
        (
            true,
            true,
            KittyOptions {
                pixels: PixelData::Png,
                ..KittyOptions::default()
            },
        ),
    ] {
        let mut img = KittyImage::new(7, mode(animation, deflate), opts);
        let mut model = Model::default();
        let mut out = Vec::new();
        for step in 0..20usize {
            let f = frame(step * 7 % 140, step * 5 % 120);
            out.clear();
            let u = img.encode(&f, 160, 144, PLACE, &mut out).unwrap();
            if step == 0 || !animation {
                assert_eq!(u, Update::Transmitted);
            } else {
                assert!(matches!(u, Update::Delta { .. }), "{u:?}");
            }
            model.feed(&out);
            assert_eq!(model.images[&7].2, f, "frame {step}");
            assert_eq!(model.placements[&(7, 1)], (3, 2, 32, 14));
            assert_eq!(model.placements.len(), 1);
            // The same pixels again: nothing.
            out.clear();
            assert_eq!(
                img.encode(&f, 160, 144, PLACE, &mut out).unwrap(),
                Update::Unchanged
            );
            assert!(out.is_empty());
        }
        // Teardown leaves no image and no placement.
        out.clear();
        img.delete(&mut out);
        model.feed(&out);
        assert!(model.images.is_empty() && model.placements.is_empty());
        out.clear();
        img.delete(&mut out);
        assert!(out.is_empty(), "a second delete sends nothing");
    }
}

#[test]
fn sprite_motion_costs_a_few_hundred_bytes() {
    let mut img = KittyImage::new(1, mode(true, true), KittyOptions::default());
    let mut out = Vec::new();
    img.encode(&frame(10, 10), 160, 144, PLACE, &mut out)
        .unwrap();
    let first = out.len();
    out.clear();
    img.encode(&frame(12, 10), 160, 144, PLACE, &mut out)
        .unwrap();
    assert!(out.len() < 600, "delta {} bytes", out.len());
    assert!(first > out.len(), "first {first} vs delta {}", out.len());
    assert!(out.starts_with(b"\x1b_Ga=f,r=1,i=1,x=10,y=10,s=18,v=16,f=100,q=2;"));
}

#[test]
fn new_size_retransmits_new_area_only_replaces_and_invalidate_resends() {
    let mut img = KittyImage::new(9, mode(true, true), KittyOptions::default());
    let mut model = Model::default();
    let mut out = Vec::new();
    img.encode(&frame(0, 0), 160, 144, PLACE, &mut out).unwrap();
    model.feed(&out);
    // Moved and resized placement, same pixels.
    let moved = CellPlacement {
        col: 0,
        row: 0,
        cols: 16,
        rows: 7,
    };
    out.clear();
    assert_eq!(
        img.encode(&frame(0, 0), 160, 144, moved, &mut out).unwrap(),
        Update::Placed
    );
    model.feed(&out);
    assert!(out.len() < 100);
    assert_eq!(model.placements[&(9, 1)], (0, 0, 16, 7));
    // Moved and changed.
    out.clear();
    let u = img
        .encode(&frame(30, 0), 160, 144, PLACE, &mut out)
        .unwrap();
    assert!(matches!(u, Update::Delta { .. }));
    model.feed(&out);
    assert_eq!(model.placements[&(9, 1)], (3, 2, 32, 14));
    // Frame size change mid-stream.
    let small: Vec<u8> = frame(0, 0)[..80 * 72 * 4].to_vec();
    out.clear();
    assert_eq!(
        img.encode(&small, 80, 72, PLACE, &mut out).unwrap(),
        Update::Transmitted
    );
    model.feed(&out);
    assert_eq!(model.images[&9].2, small);
    assert_eq!(model.placements.len(), 1);
    img.invalidate();
    out.clear();
    assert_eq!(
        img.encode(&small, 80, 72, PLACE, &mut out).unwrap(),
        Update::Transmitted
    );
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let mut img = KittyImage::new(2, mode(true, true), KittyOptions::default());
    let mut out = Vec::new();
    assert!(img.encode(&[0; 10], 160, 144, PLACE, &mut out).is_err());
    assert!(img.encode(&[], 0, 0, PLACE, &mut out).is_err());
    let none = CellPlacement { cols: 0, ..PLACE };
    assert!(img.encode(&frame(0, 0), 160, 144, none, &mut out).is_err());
    assert!(out.is_empty());
    assert!(!img.is_shown());
}

#[test]
fn large_transmissions_are_chunked_within_kittys_limit() {
    let rgb = KittyOptions {
        pixels: PixelData::Rgb,
        ..KittyOptions::default()
    };
    let mut img = KittyImage::new(3, mode(true, false), rgb);
    let mut out = Vec::new();
    img.encode(&frame(0, 0), 160, 144, PLACE, &mut out).unwrap();
    let cmds: Vec<&[u8]> = out
        .split(|&b| b == 0x1b)
        .filter(|c| c.starts_with(b"_G"))
        .collect();
    assert!(cmds.len() > 10);
    for c in &cmds {
        let payload = c.split(|&b| b == b';').nth(1).unwrap_or(b"");
        assert!(payload.len() <= 4096);
    }
    assert!(cmds[1].starts_with(b"_Gm=1;"));
    assert!(cmds.last().unwrap().starts_with(b"_Gm=0;"));
    // Frame data continuation chunks name the action.
    out.clear();
    let noise: Vec<u8> = (0..160 * 144 * 4).map(|i| (i * 7919 % 251) as u8).collect();
    img.encode(&noise, 160, 144, PLACE, &mut out).unwrap();
    let cmds: Vec<&[u8]> = out
        .split(|&b| b == 0x1b)
        .filter(|c| c.starts_with(b"_G"))
        .collect();
    assert!(cmds[1].starts_with(b"_Ga=f,q=2,m=1;"));
}

#[test]
fn classic_mode_never_sends_placeholders_and_placeholder_mode_never_moves_the_cursor() {
    let mut img = KittyImage::new(5, mode(true, true), KittyOptions::default());
    let mut out = Vec::new();
    img.encode(&frame(0, 0), 160, 144, PLACE, &mut out).unwrap();
    assert!(!out.windows(2).any(|w| w == b"U="));
    assert!(out.starts_with(b"\x1b7\x1b[3;4H\x1b_Ga=T,i=5,p=1,f=100,s=160,v=144,c=32,r=14,q=2,C=1"));
    let m = KittyMode {
        placement: Placement::Placeholders,
        ..mode(true, true)
    };
    let mut img = KittyImage::new(5, m, KittyOptions::default());
    out.clear();
    img.encode(&frame(0, 0), 160, 144, PLACE, &mut out).unwrap();
    assert!(out.starts_with(b"\x1b_Ga=T,i=5,p=1,f=100,s=160,v=144,c=32,r=14,q=2,U=1"));
    assert!(!out.windows(2).any(|w| w == b"\x1b["));
    assert_eq!(img.placeholder_rows(PLACE), placeholder_rows(5, 1, 32, 14));
}

#[test]
fn tmux_mode_wraps_every_command() {
    let m = KittyMode {
        placement: Placement::Placeholders,
        tmux: true,
        ..mode(true, true)
    };
    let mut img = KittyImage::new(4, m, KittyOptions::default());
    let mut out = Vec::new();
    img.encode(&frame(0, 0), 160, 144, PLACE, &mut out).unwrap();
    assert!(out.starts_with(b"\x1bPtmux;\x1b\x1b_Ga=T"));
    assert!(out.ends_with(b"\x1b\x1b\\\x1b\\"));
}

/// A 160x144 view at (ox, oy) of a 256x256 world of varied 8x8 tiles, under a fixed status
/// bar (rows 120..144) and a sprite at (sx, 60).
fn world(ox: usize, oy: usize, sx: usize) -> Vec<u8> {
    let grey = [0xe0u8, 0xa8, 0x58, 0x18];
    let mut f = Vec::with_capacity(160 * 144 * 4);
    for y in 0..144 {
        for x in 0..160 {
            let (wx, wy) = ((x + ox) % 256, (y + oy) % 256);
            let tile = (wx / 8 * 31 + wy / 8 * 17) % 5;
            let mut v = grey[(tile + (wx % 8) * (wy % 8) / 9 * (tile % 2)) % 4];
            if y >= 120 {
                v = grey[(x / 6 + y) % 2 * 3];
            } else if (sx..sx + 16).contains(&x) && (60..76).contains(&y) {
                v = 0x30 + (x - sx) as u8 * 8;
            }
            f.extend_from_slice(&[v, v, 255 - v, 255]);
        }
    }
    f
}

#[test]
fn a_scrolling_world_is_copied_inside_the_terminal_and_rebuilds_exactly() {
    let mut img = KittyImage::new(5, mode(true, true), KittyOptions::default());
    let mut model = Model::default();
    let (mut bytes, mut scrolls) = (0, 0);
    let mut plain = KittyImage::new(6, mode(true, true), KittyOptions::default());
    let mut plain_bytes = 0;
    let mut out = Vec::new();
    for t in 0..40usize {
        // Steps of 1 to 6 pixels, one way then back.
        let o = if t < 20 { t * 3 } else { (40 - t) * 3 };
        let f = world(o, o / 2 + t % 3, 20 + t % 7);
        out.clear();
        let u = img.encode(&f, 160, 144, PLACE, &mut out).unwrap();
        if matches!(u, Update::Delta { scrolled: true, .. }) {
            scrolls += 1;
        }
        model.feed(&out);
        assert_eq!(model.images[&5].2, f, "frame {t}");
        if t > 0 {
            bytes += out.len();
        }
        // The same frames with the scroll not found: full edits.
        out.clear();
        plain.scrolls = false;
        plain.encode(&f, 160, 144, PLACE, &mut out).unwrap();
        if t > 0 {
            plain_bytes += out.len();
        }
    }
    assert!(scrolls >= 30, "{scrolls} of 39 updates scrolled");
    assert!(
        bytes < plain_bytes,
        "{bytes} bytes with scrolls, {plain_bytes} without"
    );
    // Frame 2 is the scratch frame, made once.
    assert_eq!(model.frames[&5].len(), 1);
}
