//! A kitty graphics encoder for video: one persistent image per shown view, sent once at
//! the frame's native resolution and scaled by the terminal to the cells it covers
//! (`c=`/`r=`); after that each frame sends only the rectangles that changed, as edits of
//! the image's frame (`a=f,r=1` with `x,y,s,v`), deflated (`o=z`). An unchanged frame costs
//! 0 bytes. A new frame size re-transmits; a new area only re-places. [`KittyImage::delete`]
//! removes the image and its placements.
//!
//! Editing the root frame in place (rather than adding animation frames and switching to
//! them with `a=a,c=`) keeps exactly one frame per image, so nothing accumulates in the
//! terminal however long the stream runs; kitty redraws an edited current frame (since
//! 0.20, animation support).
//!
//! This file is the state machine (what the terminal holds, and the escape codes that
//! transmit, place, edit and delete); the changed rectangles are found in `delta.rs`, PNG
//! rectangles made in `png.rs` and the text of Unicode placeholders in `placeholder.rs`.

mod delta;
#[cfg(test)]
mod model;
mod placeholder;
mod png;
mod scroll;
#[cfg(test)]
mod tests;

pub use delta::{changed_rects, Rect, Rects};
pub use placeholder::{placeholder_rows, PLACEHOLDER};
pub use scroll::{find_scroll, Scroll};

use self::png::PngWriter;
use super::caps::{KittyMode, Placement};
use super::tmux::tmux_wrap;
use super::{base64_into, check_frame, CellPlacement, GraphicsError};
use std::io::Write;

/// How the pixels of a transmission are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelData {
    /// `f=24`: RGB, 3 bytes a pixel (frames are opaque).
    Rgb,
    /// `f=32`: RGBA, 4 bytes a pixel.
    Rgba,
    /// `f=100`: a PNG, palette-indexed (1, 2, 4 or 8 bits a pixel) when the rectangle has
    /// at most 256 colours, RGB otherwise; compressed by PNG itself, so never `o=z`.
    Png,
}

/// Encoding choices. The defaults favour CPU: against level 6, zlib level 1 took a 64-env
/// grid's kitty tile from about 115 to 75 µs for 36% more bytes (`examples/bench_graphics.rs`
/// prints the default beside level 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KittyOptions {
    /// The wire format of pixels.
    pub pixels: PixelData,
    /// How changes are cut into rectangles.
    pub rects: Rects,
    /// zlib level 0-9 of PNG data, or of `o=z` data when the terminal inflates.
    pub level: u32,
}

impl Default for KittyOptions {
    fn default() -> KittyOptions {
        KittyOptions {
            pixels: PixelData::Png,
            rects: Rects::Several,
            level: 1,
        }
    }
}

/// What [`KittyImage::encode`] sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// Nothing: the terminal already shows these pixels there.
    Unchanged,
    /// The whole frame (first frame, new size, or a terminal without animation frames).
    Transmitted,
    /// Only a new placement (same pixels, new cells).
    Placed,
    /// Changed rectangles as frame edits (and a new placement when the cells moved).
    Delta {
        /// Rectangles sent.
        rects: usize,
        /// A scrolled band was copied inside the terminal first.
        scrolled: bool,
    },
}

#[derive(Debug)]
struct Shown {
    width: u32,
    height: u32,
    place: CellPlacement,
    /// The RGBA pixels the terminal holds.
    rgba: Vec<u8>,
}

/// One image shown in one place: the terminal-side state of one view.
#[derive(Debug)]
pub struct KittyImage {
    id: u32,
    placement_id: u32,
    mode: KittyMode,
    opts: KittyOptions,
    shown: Option<Shown>,
    /// The terminal may hold this image id (sent, not deleted since), even when
    /// invalidated: [`KittyImage::delete`] then still deletes it.
    held: bool,
    raw: Vec<u8>,
    packed: Vec<u8>,
    b64: Vec<u8>,
    png: PngWriter,
    /// The terminal holds frame 2, the scratch frame that scrolls are copied through.
    scratch: bool,
    /// The last two different scroll offsets, newest first: tried first next time.
    shifts: Vec<(i32, i32)>,
    /// Scrolls are looked for (off only in tests, to compare).
    scrolls: bool,
    /// Frames left before a full search for a scroll again, after one found none.
    rest: u32,
}

/// Frames a full scroll search rests after finding nothing (the hint is still tried).
const REST: u32 = 8;

/// Base64 characters per escape code (kitty's limit).
const CHUNK: usize = 4096;

impl KittyImage {
    /// An image with kitty image id `id` (non-zero, unique among the caller's views) and
    /// placement id 1; nothing is sent until the first [`encode`](Self::encode).
    pub fn new(id: u32, mode: KittyMode, opts: KittyOptions) -> KittyImage {
        assert!(id != 0, "kitty image id 0 means no id");
        KittyImage {
            id,
            placement_id: 1,
            mode,
            opts,
            shown: None,
            held: false,
            raw: Vec::new(),
            packed: Vec::new(),
            b64: Vec::new(),
            png: PngWriter::new(opts.level),
            scratch: false,
            shifts: Vec::new(),
            scrolls: true,
            rest: 0,
        }
    }

    /// The kitty image id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The placement id of the image's one placement.
    pub fn placement_id(&self) -> u32 {
        self.placement_id
    }

    /// True while the terminal holds this image (something was sent and not deleted).
    pub fn is_shown(&self) -> bool {
        self.shown.is_some()
    }

    /// Forgets what the terminal holds (after it was reset or cleared): the next frame is
    /// transmitted whole.
    pub fn invalidate(&mut self) {
        self.shown = None;
        self.scratch = false;
    }

    /// Brings the terminal's picture up to `rgba` (`width`x`height`) shown on `place`,
    /// appending the escape codes to `out`.
    pub fn encode(
        &mut self,
        rgba: &[u8],
        width: u32,
        height: u32,
        place: CellPlacement,
        out: &mut Vec<u8>,
    ) -> Result<Update, GraphicsError> {
        check_frame(rgba, width, height)?;
        if place.cols == 0 || place.rows == 0 {
            return Err(GraphicsError::NoRoom {
                cols: place.cols,
                rows: place.rows,
            });
        }
        let rgba = &rgba[..width as usize * height as usize * 4];
        let same_size = self
            .shown
            .as_ref()
            .is_some_and(|s| s.width == width && s.height == height);
        if !same_size {
            self.transmit(rgba, width, height, place, out);
            return Ok(Update::Transmitted);
        }
        let mut shown = self.shown.take().expect("same size means shown");
        let update = self.update(&mut shown, rgba, width, height, place, out);
        if update != Update::Transmitted {
            shown.place = place;
            shown.rgba.copy_from_slice(rgba);
            self.shown = Some(shown);
        }
        Ok(update)
    }

    /// Brings `shown` (same size) up to `rgba` on `place`: a new placement, a scroll copied
    /// inside the terminal, then the pixels still different as edits.
    fn update(
        &mut self,
        shown: &mut Shown,
        rgba: &[u8],
        width: u32,
        height: u32,
        place: CellPlacement,
        out: &mut Vec<u8>,
    ) -> Update {
        let moved = shown.place != place;
        if shown.rgba == rgba {
            if moved {
                self.place(place, out);
                return Update::Placed;
            }
            return Update::Unchanged;
        }
        if !self.mode.animation {
            self.transmit(rgba, width, height, place, out);
            return Update::Transmitted;
        }
        if moved {
            self.place(place, out);
        }
        let png = self.opts.pixels == PixelData::Png;
        let search = self.rest == 0;
        self.rest = self.rest.saturating_sub(1);
        let scroll = (png && self.scrolls)
            .then(|| find_scroll(&shown.rgba, rgba, width, height, &self.shifts, search))
            .flatten();
        if scroll.is_none() && search {
            self.rest = REST;
        }
        if let Some(s) = scroll {
            if self.shifts.first() != Some(&(s.dx, s.dy)) {
                self.shifts.insert(0, (s.dx, s.dy));
                self.shifts.truncate(2);
            }
            self.scroll(&mut shown.rgba, width, s, out);
        }
        let rects = changed_rects(
            &shown.rgba,
            rgba,
            width,
            height,
            self.opts.rects,
            self.bpp(),
        );
        if png
            && !rects.is_empty()
            && (scroll.is_some() || sparse(&shown.rgba, rgba, width, &rects))
        {
            let r = bounding(&rects);
            self.packed.clear();
            self.png
                .write_masked(rgba, &shown.rgba, width, r, &mut self.packed);
            self.send_edit(r, out);
            return Update::Delta {
                rects: 1,
                scrolled: scroll.is_some(),
            };
        }
        for &r in &rects {
            self.frame_edit(rgba, width, r, out);
        }
        Update::Delta {
            rects: rects.len(),
            scrolled: scroll.is_some(),
        }
    }

    /// Copies the scrolled band inside the terminal (root frame to the scratch frame, then
    /// back moved), and the same to `shown`.
    fn scroll(&mut self, shown: &mut [u8], width: u32, s: Scroll, out: &mut Vec<u8>) {
        if !self.scratch {
            // Frame 2: frame 1 under a one-pixel edit of its own pixel, never displayed.
            self.packed.clear();
            self.png.write(shown, width, (0, 0, 1, 1), &mut self.packed);
            let keys = format!("a=f,i={},c=1,x=0,y=0,s=1,v=1,f=100,X=1,z=-1,q=2", self.id);
            self.send(&keys, true, out);
            self.scratch = true;
        }
        let c = s.copy(width);
        let cmd = format!(
            "\x1b_Ga=c,i={},r=1,c=2,C=1,q=2\x1b\\\x1b_Ga=c,i={},r=2,c=1,x={},y={},X={},Y={},w={},h={},C=1,q=2\x1b\\",
            self.id, self.id, c.x, c.y, c.sx, c.sy, c.w, c.h
        );
        self.emit(cmd.as_bytes(), out);
        scroll::apply(shown, width, c);
    }

    /// Deletes the image, its data and every placement of it (`a=d,d=I`); the next
    /// [`encode`](Self::encode) transmits again. Nothing is sent when the terminal holds
    /// nothing of it.
    pub fn delete(&mut self, out: &mut Vec<u8>) {
        self.shown = None;
        self.scratch = false;
        if std::mem::take(&mut self.held) {
            let cmd = format!("\x1b_Ga=d,d=I,i={},q=2\x1b\\", self.id);
            self.emit(cmd.as_bytes(), out);
        }
    }

    /// The text to draw on the image's cells in [`Placement::Placeholders`] mode: one
    /// string per row, each starting with the colours that name the image and placement.
    /// Write row `i` at `(place.col, place.row + i)`, then reset the colours.
    pub fn placeholder_rows(&self, place: CellPlacement) -> Vec<String> {
        placeholder_rows(self.id, self.placement_id, place.cols, place.rows)
    }

    fn bpp(&self) -> usize {
        match self.opts.pixels {
            PixelData::Rgb => 3,
            PixelData::Rgba => 4,
            PixelData::Png => 1,
        }
    }

    fn format_key(&self) -> u32 {
        match self.opts.pixels {
            PixelData::Rgb => 24,
            PixelData::Rgba => 32,
            PixelData::Png => 100,
        }
    }

    fn transmit(
        &mut self,
        rgba: &[u8],
        width: u32,
        height: u32,
        place: CellPlacement,
        out: &mut Vec<u8>,
    ) {
        self.pack(rgba, width, (0, 0, width, height));
        let mut keys = format!(
            "a=T,i={},p={},f={},s={width},v={height},c={},r={},q=2",
            self.id,
            self.placement_id,
            self.format_key(),
            place.cols,
            place.rows
        );
        match self.mode.placement {
            Placement::Classic => keys.push_str(",C=1"),
            Placement::Placeholders => keys.push_str(",U=1"),
        }
        let classic = self.mode.placement == Placement::Classic;
        if classic {
            Self::cursor_to(place, out);
        }
        self.send(&keys, false, out);
        if classic {
            out.extend_from_slice(b"\x1b8");
        }
        self.held = true;
        self.scratch = false; // a new transmission replaces every frame
        self.shifts.clear();
        self.shown = Some(Shown {
            width,
            height,
            place,
            rgba: rgba.to_vec(),
        });
    }

    fn place(&mut self, place: CellPlacement, out: &mut Vec<u8>) {
        let (extra, classic) = match self.mode.placement {
            Placement::Classic => (",C=1", true),
            Placement::Placeholders => (",U=1", false),
        };
        let cmd = format!(
            "\x1b_Ga=p,i={},p={},c={},r={},q=2{extra}\x1b\\",
            self.id, self.placement_id, place.cols, place.rows
        );
        if classic {
            Self::cursor_to(place, out);
        }
        self.emit(cmd.as_bytes(), out);
        if classic {
            out.extend_from_slice(b"\x1b8");
        }
    }

    fn frame_edit(&mut self, rgba: &[u8], width: u32, r: Rect, out: &mut Vec<u8>) {
        self.pack(rgba, width, r);
        self.send_edit(r, out);
    }

    /// Sends `self.packed` as an edit of rectangle `r` of the root frame.
    fn send_edit(&mut self, r: Rect, out: &mut Vec<u8>) {
        let keys = format!(
            "a=f,r=1,i={},x={},y={},s={},v={},f={},q=2",
            self.id,
            r.0,
            r.1,
            r.2,
            r.3,
            self.format_key()
        );
        self.send(&keys, true, out);
    }

    /// Saves the cursor and moves it to the placement's top-left cell (restored with ESC 8
    /// after the command, so the caller's idea of the cursor stays right).
    fn cursor_to(place: CellPlacement, out: &mut Vec<u8>) {
        let _ = write!(out, "\x1b7\x1b[{};{}H", place.row + 1, place.col + 1);
    }

    /// Copies rectangle `r` of `rgba` into `self.raw` in the wire pixel format, then
    /// deflates it into `self.packed` when the terminal inflates.
    fn pack(&mut self, rgba: &[u8], width: u32, r: Rect) {
        let (x, y, w, h) = (r.0 as usize, r.1 as usize, r.2 as usize, r.3 as usize);
        let stride = width as usize * 4;
        self.raw.clear();
        if self.opts.pixels == PixelData::Png {
            self.packed.clear();
            self.png.write(rgba, width, r, &mut self.packed);
            return;
        }
        for row in y..y + h {
            let line = &rgba[row * stride + x * 4..row * stride + (x + w) * 4];
            match self.opts.pixels {
                PixelData::Rgba | PixelData::Png => self.raw.extend_from_slice(line),
                PixelData::Rgb => {
                    for p in line.chunks_exact(4) {
                        self.raw.extend_from_slice(&p[..3]);
                    }
                }
            }
        }
        self.packed.clear();
        if self.mode.deflate {
            let mut z = flate2::write::ZlibEncoder::new(
                std::mem::take(&mut self.packed),
                flate2::Compression::new(self.opts.level.min(9)),
            );
            z.write_all(&self.raw).expect("writing to a Vec");
            self.packed = z.finish().expect("writing to a Vec");
        } else {
            std::mem::swap(&mut self.packed, &mut self.raw);
        }
    }

    /// Sends `self.packed` with `keys`, in chunks of at most 4096 base64 characters.
    /// Continuation chunks carry only `m` (and `a=f,q=2` for frame data, which kitty needs
    /// to route them).
    fn send(&mut self, keys: &str, frame: bool, out: &mut Vec<u8>) {
        let mut keys = keys.to_string();
        if self.mode.deflate && self.opts.pixels != PixelData::Png {
            keys.push_str(",o=z");
        }
        self.b64.clear();
        base64_into(&self.packed, &mut self.b64);
        let b64 = std::mem::take(&mut self.b64);
        let chunks: Vec<&[u8]> = if b64.is_empty() {
            vec![&[][..]]
        } else {
            b64.chunks(CHUNK).collect()
        };
        let mut cmd = Vec::with_capacity(CHUNK + 128);
        for (i, chunk) in chunks.iter().enumerate() {
            let more = i + 1 < chunks.len();
            cmd.clear();
            cmd.extend_from_slice(b"\x1b_G");
            if i == 0 {
                cmd.extend_from_slice(keys.as_bytes());
                if more {
                    cmd.extend_from_slice(b",m=1");
                }
            } else {
                if frame {
                    cmd.extend_from_slice(b"a=f,q=2,");
                }
                cmd.extend_from_slice(if more { b"m=1" } else { b"m=0" });
            }
            cmd.push(b';');
            cmd.extend_from_slice(chunk);
            cmd.extend_from_slice(b"\x1b\\");
            self.emit(&cmd, out);
        }
        self.b64 = b64;
    }

    fn emit(&self, cmd: &[u8], out: &mut Vec<u8>) {
        if self.mode.tmux {
            out.extend_from_slice(&tmux_wrap(cmd));
        } else {
            out.extend_from_slice(cmd);
        }
    }
}

/// True when fewer than half the pixels of `rects` changed: one edit whose unchanged
/// pixels are transparent is then smaller than opaque rectangles.
fn sparse(old: &[u8], new: &[u8], width: u32, rects: &[Rect]) -> bool {
    let stride = width as usize * 4;
    let (mut area, mut changed) = (0usize, 0usize);
    for &(x, y, w, h) in rects {
        area += (w * h) as usize;
        for row in y..y + h {
            let i = row as usize * stride + x as usize * 4;
            let (a, b) = (&old[i..i + w as usize * 4], &new[i..i + w as usize * 4]);
            changed += a
                .chunks_exact(4)
                .zip(b.chunks_exact(4))
                .filter(|(p, q)| p != q)
                .count();
        }
    }
    changed * 2 < area
}

/// The smallest rectangle holding every one of `rects` (not empty).
fn bounding(rects: &[Rect]) -> Rect {
    let x0 = rects.iter().map(|r| r.0).min().unwrap_or(0);
    let y0 = rects.iter().map(|r| r.1).min().unwrap_or(0);
    let x1 = rects.iter().map(|r| r.0 + r.2).max().unwrap_or(0);
    let y1 = rects.iter().map(|r| r.1 + r.3).max().unwrap_or(0);
    (x0, y0, x1 - x0, y1 - y0)
}
