//! The graphics pictures on screen, in every view: one kitty image per shown feed, kept
//! up to date with delta frames, or sixel pictures redrawn, when their frame, place or
//! greying changed, only where what they show changed. Pictures fill their area up to [`MAX_SCALE`], centred like half-blocks.

use super::caps::{KittyMode, Placement, Protocol};
use super::kitty::{KittyImage, KittyOptions};
use super::sixel::{SixelEncoder, SixelShown};
use super::{fit_cells, fit_pixels, CellPlacement, PixelPlacement};
use crate::tui::halfblock::dimmed;
use ratatui::layout::Rect;
use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

/// The largest scale a picture is shown at (the largest preset's).
pub const MAX_SCALE: u32 = 4;

/// One picture to show: the feed it belongs to, its frame and where it may go.
#[derive(Debug, Clone, Copy)]
pub struct Picture<'a> {
    /// The feed's key (one picture per feed).
    pub key: &'a str,
    /// RGBA pixels, `width * height * 4` bytes.
    pub rgba: &'a [u8],
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Identifies the pixels: the same id means the same picture.
    pub content_id: u64,
    /// The cells the picture may fill.
    pub rect: Rect,
    /// Grey the picture (offline source).
    pub dim: bool,
}

/// What a picture on screen was drawn from: the same again needs nothing sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Drawn<P> {
    content_id: u64,
    place: P,
    dim: bool,
}

/// Places a `width`x`height` frame in an area of cells ([`fit_cells`], [`fit_pixels`]).
type Fit<P> = fn(u32, u32, Rect, (u16, u16), u32) -> Option<P>;

impl<P> Drawn<P> {
    /// What drawing `picture` now means, placed by `fit` (None: nowhere to put it).
    fn of(picture: &Picture, cell: (u16, u16), fit: Fit<P>) -> Option<Drawn<P>> {
        Some(Drawn {
            content_id: picture.content_id,
            place: fit(picture.width, picture.height, picture.rect, cell, MAX_SCALE)?,
            dim: picture.dim,
        })
    }
}

enum Kind {
    Kitty {
        mode: KittyMode,
        images: HashMap<String, (KittyImage, Option<Drawn<CellPlacement>>)>,
        next_id: u32,
    },
    Sixel {
        encoder: Box<SixelEncoder>,
        shown: HashMap<String, (Option<Drawn<PixelPlacement>>, SixelShown)>,
    },
}

/// Draws feeds' frames with kitty graphics or sixel.
pub struct Painter {
    kind: Kind,
    cell: (u16, u16),
    grey: Vec<u8>,
}

/// First kitty image id used (ids below are left to other programs' habits).
const FIRST_ID: u32 = 100;

impl Painter {
    /// A painter for `protocol` with cells of `cell` pixels; `None` for half-blocks.
    pub fn new(protocol: Protocol, cell: (u16, u16)) -> Option<Painter> {
        let kind = match protocol {
            Protocol::Kitty(mode) => Kind::Kitty {
                mode,
                images: HashMap::new(),
                next_id: FIRST_ID,
            },
            Protocol::Sixel => Kind::Sixel {
                encoder: Box::new(SixelEncoder::new()),
                shown: HashMap::new(),
            },
            Protocol::Halfblocks => return None,
        };
        Some(Painter {
            kind,
            cell,
            grey: Vec::new(),
        })
    }

    /// How pictures are drawn, in words ("kitty (classic, deltas, deflate)", "sixel").
    pub fn name(&self) -> String {
        match &self.kind {
            Kind::Kitty { mode, .. } => {
                let mut parts = vec![match mode.placement {
                    Placement::Classic => "classic",
                    Placement::Placeholders => "placeholders",
                }];
                if mode.animation {
                    parts.push("deltas");
                }
                if mode.deflate {
                    parts.push("deflate");
                }
                if mode.tmux {
                    parts.push("tmux");
                }
                format!("kitty ({})", parts.join(", "))
            }
            Kind::Sixel { .. } => "sixel".to_string(),
        }
    }

    /// Forgets what the terminal shows (after its screen was cleared): every picture is
    /// sent in full next time.
    pub fn invalidate(&mut self) {
        match &mut self.kind {
            Kind::Kitty { images, .. } => images.values_mut().for_each(|(img, drawn)| {
                img.invalidate();
                *drawn = None;
            }),
            Kind::Sixel { shown, .. } => shown.clear(),
        }
    }

    /// Brings the terminal's pictures up to `pictures`, appending escape codes to `out`:
    /// kitty images of feeds no longer shown are deleted. Returns each drawn feed's
    /// encoding time; a picture whose frame cannot be drawn is skipped.
    pub fn draw(&mut self, pictures: &[Picture], out: &mut Vec<u8>) -> Vec<(String, Duration)> {
        let mut times = Vec::new();
        let cell = self.cell;
        match &mut self.kind {
            Kind::Kitty {
                mode,
                images,
                next_id,
            } => {
                images.retain(|key, (img, _)| {
                    let keep = pictures.iter().any(|s| s.key == key);
                    if !keep {
                        img.delete(out);
                    }
                    keep
                });
                for picture in pictures {
                    let Some(now) = Drawn::of(picture, cell, fit_cells) else {
                        continue;
                    };
                    let place = now.place;
                    let (img, drawn) = images.entry(picture.key.to_string()).or_insert_with(|| {
                        *next_id += 1;
                        let id = *next_id - 1;
                        (KittyImage::new(id, *mode, KittyOptions::default()), None)
                    });
                    if *drawn == Some(now) {
                        continue; // the same frame in the same place: not even compared
                    }
                    let t0 = Instant::now();
                    let rgba = pixels(picture, &mut self.grey);
                    if let Ok(update) = img.encode(rgba, picture.width, picture.height, place, out)
                    {
                        *drawn = Some(now);
                        if mode.placement == Placement::Placeholders
                            && update != super::kitty::Update::Unchanged
                        {
                            placeholders(img, place, out);
                        }
                        times.push((picture.key.to_string(), t0.elapsed()));
                    }
                }
            }
            Kind::Sixel { encoder, shown } => {
                shown.retain(|key, _| pictures.iter().any(|s| s.key == key));
                for picture in pictures {
                    let Some(now) = Drawn::of(picture, cell, fit_pixels) else {
                        continue;
                    };
                    let place = now.place;
                    let (drawn, seen) = shown.entry(picture.key.to_string()).or_default();
                    if *drawn == Some(now) {
                        continue;
                    }
                    let t0 = Instant::now();
                    let rgba = pixels(picture, &mut self.grey);
                    let (w, h) = (picture.width, picture.height);
                    if encoder
                        .update_at(rgba, w, h, place, cell.1, seen, out)
                        .is_ok()
                    {
                        *drawn = Some(now);
                        times.push((picture.key.to_string(), t0.elapsed()));
                    }
                }
            }
        }
        times
    }

    /// Removes every picture this painter put on screen (before quitting).
    pub fn clear(&mut self, out: &mut Vec<u8>) {
        match &mut self.kind {
            Kind::Kitty { images, .. } => images.values_mut().for_each(|(img, drawn)| {
                img.delete(out);
                *drawn = None;
            }),
            // Sixel pixels are cells' contents: the screen clear on exit removes them.
            Kind::Sixel { shown, .. } => shown.clear(),
        }
    }
}

/// The picture's pixels, greyed into `grey` when it is dimmed.
fn pixels<'a>(picture: &'a Picture, grey: &'a mut Vec<u8>) -> &'a [u8] {
    if !picture.dim {
        return picture.rgba;
    }
    grey.clear();
    grey.extend_from_slice(picture.rgba);
    for px in grey.chunks_exact_mut(4) {
        (px[0], px[1], px[2]) = dimmed(px[0], px[1], px[2]);
    }
    grey
}

/// Writes the placeholder characters that show `img` over `place`.
fn placeholders(img: &KittyImage, place: CellPlacement, out: &mut Vec<u8>) {
    for (i, row) in img.placeholder_rows(place).iter().enumerate() {
        let _ = write!(
            out,
            "\x1b[{};{}H{row}\x1b[39;49m",
            place.row as usize + i + 1,
            place.col + 1
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(v: u8) -> Vec<u8> {
        let mut f = vec![v; 160 * 144 * 4];
        f[7] = v.wrapping_add(1);
        f
    }

    fn picture<'a>(key: &'a str, rgba: &'a [u8], id: u64, rect: Rect) -> Picture<'a> {
        Picture {
            key,
            rgba,
            width: 160,
            height: 144,
            content_id: id,
            rect,
            dim: false,
        }
    }

    const KITTY: Protocol = Protocol::Kitty(KittyMode {
        placement: Placement::Classic,
        animation: true,
        deflate: true,
        tmux: false,
    });

    #[test]
    fn kitty_sends_each_feed_once_then_only_changes_and_deletes_hidden_feeds() {
        let mut p = Painter::new(KITTY, (10, 20)).unwrap();
        let (a, b) = (frame(10), frame(20));
        let rect = Rect::new(0, 0, 40, 20);
        let mut out = Vec::new();
        let drawn = p.draw(
            &[
                picture("a", &a, 1, rect),
                picture("b", &b, 2, Rect::new(40, 0, 40, 20)),
            ],
            &mut out,
        );
        assert_eq!(drawn.len(), 2);
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(
            text.contains("a=T,i=100,") && text.contains("a=T,i=101,"),
            "{text}"
        );
        assert!(text.contains("s=160,v=144"), "native size: {text}");
        out.clear();
        p.draw(
            &[
                picture("a", &a, 1, rect),
                picture("b", &b, 2, Rect::new(40, 0, 40, 20)),
            ],
            &mut out,
        );
        assert!(out.is_empty(), "unchanged frames cost {} bytes", out.len());
        // Only "a" stays on screen: "b" is deleted.
        p.draw(&[picture("a", &a, 1, rect)], &mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "\x1b_Ga=d,d=I,i=101,q=2\x1b\\"
        );
        out.clear();
        p.clear(&mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "\x1b_Ga=d,d=I,i=100,q=2\x1b\\"
        );
    }

    #[test]
    fn sixel_redraws_only_changed_tiles_centred_in_their_area() {
        let mut p = Painter::new(Protocol::Sixel, (10, 20)).unwrap();
        let (a, b) = (frame(10), frame(20));
        let (ra, rb) = (Rect::new(0, 0, 40, 20), Rect::new(40, 0, 40, 20));
        let mut out = Vec::new();
        assert_eq!(
            p.draw(
                &[picture("a", &a, 1, ra), picture("b", &b, 2, rb)],
                &mut out
            )
            .len(),
            2
        );
        out.clear();
        // "b" has a new frame (the same pixels again would send nothing).
        let c = frame(30);
        let drawn = p.draw(
            &[picture("a", &a, 1, ra), picture("b", &c, 3, rb)],
            &mut out,
        );
        assert_eq!(
            drawn.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
        // 40x20 cells of 10x20 px hold 2x (320x288 over 32x15 cells), centred.
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(
            text.starts_with("\x1b7\x1b[3;45H\x1bP"),
            "{:?}",
            &text[..20]
        );
        assert!(text.contains("\"1;1;320;288"), "2x fills the area");
        p.invalidate();
        out.clear();
        assert_eq!(p.draw(&[picture("a", &a, 1, ra)], &mut out).len(), 1);
    }

    #[test]
    fn sixel_sends_only_the_cell_rows_that_changed() {
        let mut p = Painter::new(Protocol::Sixel, (10, 20)).unwrap();
        let a = frame(10);
        let mut b = a.clone();
        b[100 * 160 * 4..].fill(200); // source rows 100.. of 144: rows 200.. of 2x
        let rect = Rect::new(0, 0, 40, 20);
        let mut out = Vec::new();
        p.draw(&[picture("a", &a, 1, rect)], &mut out);
        let full = out.len();
        out.clear();
        assert_eq!(p.draw(&[picture("a", &b, 2, rect)], &mut out).len(), 1);
        let text = String::from_utf8_lossy(&out).into_owned();
        // 320x288 from row 2 (cells 20 px high): row 200 is in cell row 10, 88 rows left.
        assert!(text.starts_with("\x1b7\x1b[13;5H\x1bP"), "{text:?}");
        assert!(text.contains("\"1;1;320;88"), "{text:?}");
        assert!(out.len() < full / 2, "{} of {full} bytes", out.len());
        out.clear();
        p.draw(&[picture("a", &b, 2, rect)], &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn a_bad_frame_or_no_room_draws_nothing_and_keeps_the_rest() {
        let mut p = Painter::new(KITTY, (10, 20)).unwrap();
        let good = frame(5);
        let short = vec![0u8; 100];
        let mut out = Vec::new();
        let drawn = p.draw(
            &[
                picture("short", &short, 1, Rect::new(0, 0, 40, 20)),
                picture("none", &good, 2, Rect::new(0, 0, 0, 0)),
                picture("good", &good, 3, Rect::new(40, 0, 40, 20)),
            ],
            &mut out,
        );
        assert_eq!(
            drawn.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(),
            ["good"]
        );
    }
}
