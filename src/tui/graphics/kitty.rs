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

/// How the changed pixels of a frame are cut into rectangles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rects {
    /// The bounding box of every change.
    One,
    /// Horizontal bands, merged while one rectangle is estimated cheaper than two.
    Several,
}

/// Encoding choices (the defaults are what `examples/bench_graphics.rs` measured best).
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
            level: 6,
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
    },
}

/// A rectangle of pixels: x, y, width, height.
pub type Rect = (u32, u32, u32, u32);

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
}

/// Base64 characters per escape code (kitty's limit).
const CHUNK: usize = 4096;
/// Estimated bytes of one rectangle's escape code around its data.
const RECT_OVERHEAD: u64 = 80;

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
        let shown = self.shown.as_ref().unwrap();
        let moved = shown.place != place;
        let rects = changed_rects(
            &shown.rgba,
            rgba,
            width,
            height,
            self.opts.rects,
            self.bpp(),
        );
        if rects.is_empty() {
            if moved {
                self.place(place, out);
                self.shown.as_mut().unwrap().place = place;
                return Ok(Update::Placed);
            }
            return Ok(Update::Unchanged);
        }
        if !self.mode.animation {
            self.transmit(rgba, width, height, place, out);
            return Ok(Update::Transmitted);
        }
        if moved {
            self.place(place, out);
        }
        for &r in &rects {
            self.frame_edit(rgba, width, r, out);
        }
        let shown = self.shown.as_mut().unwrap();
        shown.place = place;
        shown.rgba.copy_from_slice(rgba);
        Ok(Update::Delta { rects: rects.len() })
    }

    /// Deletes the image, its data and every placement of it (`a=d,d=I`); the next
    /// [`encode`](Self::encode) transmits again. Nothing is sent when the terminal holds
    /// nothing of it.
    pub fn delete(&mut self, out: &mut Vec<u8>) {
        self.shown = None;
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
            png_of(
                rgba,
                width,
                r,
                self.opts.level,
                &mut self.raw,
                &mut self.packed,
            );
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

/// A PNG of rectangle `r` of `rgba` (`width` pixels a row) appended to `out`: indexed with
/// the fewest bits that hold its colours when there are at most 256, else RGB. `scratch`
/// holds the rows before compression (zlib `level`).
fn png_of(rgba: &[u8], width: u32, r: Rect, level: u32, scratch: &mut Vec<u8>, out: &mut Vec<u8>) {
    let (x, y, w, h) = (r.0 as usize, r.1 as usize, r.2 as usize, r.3 as usize);
    let stride = width as usize * 4;
    let px = |col: usize, row: usize| {
        let i = (y + row) * stride + (x + col) * 4;
        [rgba[i], rgba[i + 1], rgba[i + 2]]
    };
    // Each pixel's palette index, looked up once (runs of one colour not even that).
    let mut palette: Vec<[u8; 3]> = Vec::new();
    let mut index = std::collections::HashMap::new();
    let mut indices = Vec::with_capacity(w * h);
    let mut last: Option<([u8; 3], u8)> = None;
    'scan: for row in 0..h {
        for col in 0..w {
            let c = px(col, row);
            let i = match last {
                Some((l, i)) if l == c => i,
                _ => match index.entry(c) {
                    std::collections::hash_map::Entry::Occupied(e) => *e.get(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        if palette.len() == 256 {
                            palette.clear();
                            break 'scan;
                        }
                        let i = palette.len() as u8; // below 256 here
                        palette.push(c);
                        *e.insert(i)
                    }
                },
            };
            last = Some((c, i));
            indices.push(i);
        }
    }
    scratch.clear();
    let mut enc = png::Encoder::new(&mut *out, w as u32, h as u32);
    enc.set_deflate_compression(png::DeflateCompression::Level(level.min(9) as u8));
    if palette.is_empty() {
        enc.set_color(png::ColorType::Rgb);
        enc.set_filter(png::Filter::Adaptive);
        for row in 0..h {
            for col in 0..w {
                scratch.extend_from_slice(&px(col, row));
            }
        }
    } else {
        let bits = match palette.len() {
            0..=2 => 1,
            3..=4 => 2,
            5..=16 => 4,
            _ => 8,
        };
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(match bits {
            1 => png::BitDepth::One,
            2 => png::BitDepth::Two,
            4 => png::BitDepth::Four,
            _ => png::BitDepth::Eight,
        });
        enc.set_palette(palette.concat());
        enc.set_filter(png::Filter::NoFilter);
        let per_byte = 8 / bits;
        for row in indices.chunks_exact(w.max(1)) {
            for chunk in row.chunks(per_byte) {
                let mut b = 0u8;
                for (k, v) in chunk.iter().enumerate() {
                    b |= v << (8 - bits * (k + 1));
                }
                scratch.push(b);
            }
        }
    }
    let mut writer = enc.write_header().expect("writing a PNG to a Vec");
    writer
        .write_image_data(scratch)
        .expect("rows of the declared size");
}

/// The rectangles that cover every pixel where `old` and `new` differ (both RGBA,
/// `width`x`height`). `bpp` is the wire bytes per pixel, used to weigh one larger
/// rectangle against two smaller ones.
pub fn changed_rects(
    old: &[u8],
    new: &[u8],
    width: u32,
    height: u32,
    how: Rects,
    bpp: usize,
) -> Vec<Rect> {
    let (w, h) = (width as usize, height as usize);
    let stride = w * 4;
    // Per row: the first and last changed column.
    let mut rows: Vec<Option<(usize, usize)>> = Vec::with_capacity(h);
    for y in 0..h {
        let a = &old[y * stride..(y + 1) * stride];
        let b = &new[y * stride..(y + 1) * stride];
        if a == b {
            rows.push(None);
            continue;
        }
        let differs = |x: &usize| a[x * 4..x * 4 + 4] != b[x * 4..x * 4 + 4];
        let first = (0..w).find(differs).unwrap();
        let last = (0..w).rev().find(differs).unwrap();
        rows.push(Some((first, last)));
    }
    // Estimated wire bytes of a rectangle: fixed cost plus its pixels (pixel art deflates
    // to roughly a tenth; the ratio only matters relative to the fixed cost).
    let cost = |x0: usize, x1: usize, y0: usize, y1: usize| -> u64 {
        RECT_OVERHEAD + ((x1 - x0 + 1) * (y1 - y0 + 1) * bpp) as u64 / 10
    };
    let mut rects = Vec::new();
    let mut cur: Option<(usize, usize, usize, usize)> = None; // x0, x1, y0, y1
    for (y, r) in rows.iter().enumerate() {
        let Some((a, b)) = *r else { continue };
        cur = match cur {
            None => Some((a, b, y, y)),
            Some((x0, x1, y0, y1)) => {
                let (ux0, ux1) = (x0.min(a), x1.max(b));
                let merge = how == Rects::One
                    || cost(ux0, ux1, y0, y) <= cost(x0, x1, y0, y1) + cost(a, b, y, y);
                if merge {
                    Some((ux0, ux1, y0, y))
                } else {
                    rects.push((x0, x1, y0, y1));
                    Some((a, b, y, y))
                }
            }
        };
    }
    rects.extend(cur);
    rects
        .into_iter()
        .map(|(x0, x1, y0, y1)| {
            (
                x0 as u32,
                y0 as u32,
                (x1 - x0 + 1) as u32,
                (y1 - y0 + 1) as u32,
            )
        })
        .collect()
}

/// kitty's row/column diacritics for Unicode placeholders (`gen/rowcolumn-diacritics.txt`):
/// the n-th one names row or column n.
const DIACRITICS: &[u32] = &[
    0x0305, 0x030D, 0x030E, 0x0310, 0x0312, 0x033D, 0x033E, 0x033F, 0x0346, 0x034A, 0x034B, 0x034C,
    0x0350, 0x0351, 0x0352, 0x0357, 0x035B, 0x0363, 0x0364, 0x0365, 0x0366, 0x0367, 0x0368, 0x0369,
    0x036A, 0x036B, 0x036C, 0x036D, 0x036E, 0x036F, 0x0483, 0x0484, 0x0485, 0x0486, 0x0487, 0x0592,
    0x0593, 0x0594, 0x0595, 0x0597, 0x0598, 0x0599, 0x059C, 0x059D, 0x059E, 0x059F, 0x05A0, 0x05A1,
    0x05A8, 0x05A9, 0x05AB, 0x05AC, 0x05AF, 0x05C4, 0x0610, 0x0611, 0x0612, 0x0613, 0x0614, 0x0615,
    0x0616, 0x0617, 0x0657, 0x0658, 0x0659, 0x065A, 0x065B, 0x065D, 0x065E, 0x06D6, 0x06D7, 0x06D8,
    0x06D9, 0x06DA, 0x06DB, 0x06DC, 0x06DF, 0x06E0, 0x06E1, 0x06E2, 0x06E4, 0x06E7, 0x06E8, 0x06EB,
    0x06EC, 0x0730, 0x0732, 0x0733, 0x0735, 0x0736, 0x073A, 0x073D, 0x073F, 0x0740, 0x0741, 0x0743,
    0x0745, 0x0747, 0x0749, 0x074A, 0x07EB, 0x07EC, 0x07ED, 0x07EE, 0x07EF, 0x07F0, 0x07F1, 0x07F3,
    0x0816, 0x0817, 0x0818, 0x0819, 0x081B, 0x081C, 0x081D, 0x081E, 0x081F, 0x0820, 0x0821, 0x0822,
    0x0823, 0x0825, 0x0826, 0x0827, 0x0829, 0x082A, 0x082B, 0x082C, 0x082D, 0x0951, 0x0953, 0x0954,
    0x0F82, 0x0F83, 0x0F86, 0x0F87, 0x135D, 0x135E, 0x135F, 0x17DD, 0x193A, 0x1A17, 0x1A75, 0x1A76,
    0x1A77, 0x1A78, 0x1A79, 0x1A7A, 0x1A7B, 0x1A7C, 0x1B6B, 0x1B6D, 0x1B6E, 0x1B6F, 0x1B70, 0x1B71,
    0x1B72, 0x1B73, 0x1CD0, 0x1CD1, 0x1CD2, 0x1CDA, 0x1CDB, 0x1CE0, 0x1DC0, 0x1DC1, 0x1DC3, 0x1DC4,
    0x1DC5, 0x1DC6, 0x1DC7, 0x1DC8, 0x1DC9, 0x1DCB, 0x1DCC, 0x1DD1, 0x1DD2, 0x1DD3, 0x1DD4, 0x1DD5,
    0x1DD6, 0x1DD7, 0x1DD8, 0x1DD9, 0x1DDA, 0x1DDB, 0x1DDC, 0x1DDD, 0x1DDE, 0x1DDF, 0x1DE0, 0x1DE1,
    0x1DE2, 0x1DE3, 0x1DE4, 0x1DE5, 0x1DE6, 0x1DFE, 0x20D0, 0x20D1, 0x20D4, 0x20D5, 0x20D6, 0x20D7,
    0x20DB, 0x20DC, 0x20E1, 0x20E7, 0x20E9, 0x20F0, 0x2CEF, 0x2CF0, 0x2CF1, 0x2DE0, 0x2DE1, 0x2DE2,
    0x2DE3, 0x2DE4, 0x2DE5, 0x2DE6, 0x2DE7, 0x2DE8, 0x2DE9, 0x2DEA, 0x2DEB, 0x2DEC, 0x2DED, 0x2DEE,
    0x2DEF, 0x2DF0, 0x2DF1, 0x2DF2, 0x2DF3, 0x2DF4, 0x2DF5, 0x2DF6, 0x2DF7, 0x2DF8, 0x2DF9, 0x2DFA,
    0x2DFB, 0x2DFC, 0x2DFD, 0x2DFE, 0x2DFF, 0xA66F, 0xA67C, 0xA67D, 0xA6F0, 0xA6F1, 0xA8E0, 0xA8E1,
    0xA8E2, 0xA8E3, 0xA8E4, 0xA8E5, 0xA8E6, 0xA8E7, 0xA8E8, 0xA8E9, 0xA8EA, 0xA8EB, 0xA8EC, 0xA8ED,
    0xA8EE, 0xA8EF, 0xA8F0, 0xA8F1, 0xAAB0, 0xAAB2, 0xAAB3, 0xAAB7, 0xAAB8, 0xAABE, 0xAABF, 0xAAC1,
    0xFE20, 0xFE21, 0xFE22, 0xFE23, 0xFE24, 0xFE25, 0xFE26, 0x10A0F, 0x10A38, 0x1D185, 0x1D186,
    0x1D187, 0x1D188, 0x1D189, 0x1D1AA, 0x1D1AB, 0x1D1AC, 0x1D1AD, 0x1D242, 0x1D243, 0x1D244,
];

/// The placeholder character of kitty's Unicode placements.
pub const PLACEHOLDER: char = '\u{10EEEE}';

/// Placeholder text for image `id` / `placement_id` over `cols`x`rows` cells: per row, the
/// colours naming the image (foreground, 24-bit) and placement (underline colour), then
/// the first cell with its row and column diacritics and the rest bare (kitty continues
/// the column from the left neighbour). Rows past the diacritics table are left out.
pub fn placeholder_rows(id: u32, placement_id: u32, cols: u16, rows: u16) -> Vec<String> {
    let colour = |v: u32| format!("{};{};{}", (v >> 16) & 255, (v >> 8) & 255, v & 255);
    let prefix = format!(
        "\x1b[38;2;{}m\x1b[58;2;{}m",
        colour(id),
        colour(placement_id)
    );
    (0..rows as usize)
        .take(DIACRITICS.len())
        .map(|r| {
            let mut s = prefix.clone();
            if cols > 0 {
                s.push(PLACEHOLDER);
                s.push(char::from_u32(DIACRITICS[r]).unwrap());
                s.push(char::from_u32(DIACRITICS[0]).unwrap());
                for _ in 1..cols {
                    s.push(PLACEHOLDER);
                }
            }
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Keys kitty 0.26 accepts in a graphics command (its parser rejects any other with
    /// "invalid key character").
    const KEYS_026: &str = "aqfmtosvSOixyXYwhcrpCzdIHVUZPQ";

    /// A model of what a kitty terminal holds, built by reading our escape codes the way
    /// kitty 0.26 does: images by id with one RGBA frame, edits composed onto it,
    /// placements by (image, placement) id. It rejects anything 0.26 would not accept.
    #[derive(Default)]
    struct Model {
        images: HashMap<u32, (u32, u32, Vec<u8>)>,
        placements: HashMap<(u32, u32), (u16, u16, u16, u16)>,
        loading: Option<(HashMap<char, String>, Vec<u8>)>,
        cursor: (u16, u16),
        saved: (u16, u16),
    }

    impl Model {
        fn feed(&mut self, bytes: &[u8]) {
            let mut i = 0;
            while i < bytes.len() {
                assert_eq!(bytes[i], 0x1b, "stray byte {:#x} at {i}", bytes[i]);
                match bytes[i + 1] {
                    b'7' => {
                        self.saved = self.cursor;
                        i += 2;
                    }
                    b'8' => {
                        self.cursor = self.saved;
                        i += 2;
                    }
                    b'[' => {
                        let end = i + bytes[i..].iter().position(|&b| b == b'H').unwrap();
                        let s = std::str::from_utf8(&bytes[i + 2..end]).unwrap();
                        let (r, c) = s.split_once(';').unwrap();
                        self.cursor =
                            (c.parse::<u16>().unwrap() - 1, r.parse::<u16>().unwrap() - 1);
                        i = end + 1;
                    }
                    b'_' => {
                        let end = i + bytes[i..].windows(2).position(|w| w == b"\x1b\\").unwrap();
                        self.command(&bytes[i + 3..end]);
                        assert_eq!(bytes[i + 2], b'G');
                        i = end + 2;
                    }
                    b => panic!("unexpected escape {b:#x}"),
                }
            }
        }

        fn command(&mut self, body: &[u8]) {
            let s = std::str::from_utf8(body).unwrap();
            let (keys, payload) = s.split_once(';').unwrap_or((s, ""));
            let mut k = HashMap::new();
            for kv in keys.split(',') {
                let (key, v) = kv.split_once('=').unwrap();
                let c = key.chars().next().unwrap();
                assert!(
                    key.len() == 1 && KEYS_026.contains(c),
                    "kitty 0.26 rejects key {key}"
                );
                k.insert(c, v.to_string());
            }
            let data: Vec<u8> = decode_b64(payload);
            if let Some((start, mut acc)) = self.loading.take() {
                // Continuation: only m (plus a=f,q for frames).
                for key in k.keys() {
                    assert!("mqa".contains(*key), "continuation chunk with key {key}");
                }
                acc.extend(data);
                if k.get(&'m').map(String::as_str) == Some("1") {
                    self.loading = Some((start, acc));
                } else {
                    self.run(&start, acc);
                }
                return;
            }
            if k.get(&'m').map(String::as_str) == Some("1") {
                self.loading = Some((k, data));
            } else {
                self.run(&k, data);
            }
        }

        fn run(&mut self, k: &HashMap<char, String>, data: Vec<u8>) {
            let num = |c: char| k.get(&c).map(|v| v.parse::<u32>().unwrap()).unwrap_or(0);
            let data = if k.get(&'o').map(String::as_str) == Some("z") {
                let mut d = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&data[..]), &mut d)
                    .unwrap();
                d
            } else {
                data
            };
            let to_rgba = |fmt: u32, d: &[u8]| -> Vec<u8> {
                match fmt {
                    24 => d
                        .chunks_exact(3)
                        .flat_map(|p| [p[0], p[1], p[2], 255])
                        .collect(),
                    32 => d.to_vec(),
                    100 => {
                        let mut dec = png::Decoder::new(std::io::Cursor::new(d));
                        dec.set_transformations(png::Transformations::EXPAND);
                        let mut r = dec.read_info().unwrap();
                        let mut buf = vec![0; r.output_buffer_size().unwrap()];
                        let info = r.next_frame(&mut buf).unwrap();
                        assert_eq!(info.bit_depth, png::BitDepth::Eight);
                        buf[..info.buffer_size()]
                            .chunks_exact(info.color_type.samples())
                            .flat_map(|p| [p[0], p[1], p[2], 255])
                            .collect()
                    }
                    f => panic!("format {f}"),
                }
            };
            match k.get(&'a').map(String::as_str).unwrap_or("t") {
                "T" => {
                    let (id, w, h) = (num('i'), num('s'), num('v'));
                    let px = to_rgba(num('f'), &data);
                    assert_eq!(px.len(), (w * h * 4) as usize);
                    // Re-transmitting an id replaces the image and drops its placements.
                    self.placements.retain(|&(i, _), _| i != id);
                    self.images.insert(id, (w, h, px));
                    self.placements.insert(
                        (id, num('p')),
                        (
                            self.cursor.0,
                            self.cursor.1,
                            num('c') as u16,
                            num('r') as u16,
                        ),
                    );
                }
                "p" => {
                    assert!(self.images.contains_key(&num('i')));
                    self.placements.insert(
                        (num('i'), num('p')),
                        (
                            self.cursor.0,
                            self.cursor.1,
                            num('c') as u16,
                            num('r') as u16,
                        ),
                    );
                }
                "f" => {
                    assert_eq!(num('r'), 1, "edits the root frame");
                    let (w, _, img) = self.images.get_mut(&num('i')).expect("frame for no image");
                    let (x, y, s, v) = (num('x'), num('y'), num('s'), num('v'));
                    let px = to_rgba(num('f'), &data);
                    assert_eq!(px.len(), (s * v * 4) as usize);
                    for row in 0..v {
                        let dst = (((y + row) * *w + x) * 4) as usize;
                        let src = (row * s * 4) as usize;
                        img[dst..dst + (s * 4) as usize]
                            .copy_from_slice(&px[src..src + (s * 4) as usize]);
                    }
                }
                "d" => {
                    assert_eq!(k.get(&'d').map(String::as_str), Some("I"));
                    let id = num('i');
                    self.images.remove(&id);
                    self.placements.retain(|&(i, _), _| i != id);
                }
                a => panic!("action {a}"),
            }
        }
    }

    fn decode_b64(s: &str) -> Vec<u8> {
        const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::new();
        let mut acc = 0u32;
        let mut n = 0;
        for c in s.bytes().filter(|&c| c != b'=') {
            acc = acc << 6 | T.iter().position(|&t| t == c).unwrap() as u32;
            n += 6;
            if n >= 8 {
                n -= 8;
                out.push((acc >> n) as u8);
            }
        }
        out
    }

    fn mode(animation: bool, deflate: bool) -> KittyMode {
        KittyMode {
            placement: Placement::Classic,
            animation,
            deflate,
            tmux: false,
        }
    }

    /// A 160x144 frame of four grey levels in 8x8 tiles, with a "sprite" at (sx, sy).
    fn frame(sx: usize, sy: usize) -> Vec<u8> {
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
    fn png_rectangles_decode_exactly_at_every_palette_depth_and_in_rgb() {
        // 33 pixels a row: not a whole number of bytes at 1, 2 or 4 bits a pixel.
        let (width, r) = (40u32, (3u32, 2u32, 33u32, 12u32));
        for colours in [1u32, 2, 3, 4, 16, 17, 200, 256, 257] {
            let rgba: Vec<u8> = (0..width * 16)
                .flat_map(|i| {
                    // Counting through the rectangle's pixels: all `colours` appear in it.
                    let (x, y) = ((i % width) as i64 - 3, (i / width) as i64 - 2);
                    let c = (y * 33 + x).rem_euclid(colours as i64) as u32;
                    [c as u8, (c >> 8) as u8 * 40, 255 - c as u8, 255]
                })
                .collect();
            let (mut scratch, mut png) = (Vec::new(), Vec::new());
            png_of(&rgba, width, r, 6, &mut scratch, &mut png);
            let mut dec = png::Decoder::new(std::io::Cursor::new(&png));
            dec.set_transformations(png::Transformations::EXPAND);
            let mut reader = dec.read_info().unwrap();
            let indexed = reader.info().color_type == png::ColorType::Indexed;
            let mut buf = vec![0; reader.output_buffer_size().unwrap()];
            let info = reader.next_frame(&mut buf).unwrap();
            assert_eq!((info.width, info.height), (r.2, r.3));
            let got: Vec<[u8; 3]> = buf[..info.buffer_size()]
                .chunks_exact(3)
                .map(|p| [p[0], p[1], p[2]])
                .collect();
            let want: Vec<[u8; 3]> = (r.1..r.1 + r.3)
                .flat_map(|y| (r.0..r.0 + r.2).map(move |x| (y * width + x) as usize * 4))
                .map(|i| [rgba[i], rgba[i + 1], rgba[i + 2]])
                .collect();
            assert_eq!(got, want, "{colours} colours");
            let distinct: std::collections::HashSet<_> = want.iter().collect();
            assert_eq!(indexed, distinct.len() <= 256, "{} colours", distinct.len());
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
        assert!(
            out.starts_with(b"\x1b7\x1b[3;4H\x1b_Ga=T,i=5,p=1,f=100,s=160,v=144,c=32,r=14,q=2,C=1")
        );
        let m = KittyMode {
            placement: Placement::Placeholders,
            ..mode(true, true)
        };
        let mut img = KittyImage::new(5, m, KittyOptions::default());
        out.clear();
        img.encode(&frame(0, 0), 160, 144, PLACE, &mut out).unwrap();
        assert!(out.starts_with(b"\x1b_Ga=T,i=5,p=1,f=100,s=160,v=144,c=32,r=14,q=2,U=1"));
        assert!(!out.windows(2).any(|w| w == b"\x1b["));
        let rows = img.placeholder_rows(PLACE);
        assert_eq!(rows.len(), 14);
        assert!(rows[0].starts_with("\x1b[38;2;0;0;5m\x1b[58;2;0;0;1m\u{10EEEE}\u{305}\u{305}"));
        assert!(rows[1].contains("\u{10EEEE}\u{30D}\u{305}"));
        assert_eq!(rows[0].chars().filter(|&c| c == PLACEHOLDER).count(), 32);
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
        assert_eq!(
            tmux_wrap(b"\x1b_Gx\x1b\\"),
            b"\x1bPtmux;\x1b\x1b_Gx\x1b\x1b\\\x1b\\"
        );
    }

    #[test]
    fn rects_cover_all_changes_and_split_far_apart_ones() {
        let a = frame(0, 0);
        let mut b = a.clone();
        // Two changed pixels far apart.
        b[(5 * 160 + 3) * 4] ^= 1;
        b[(140 * 160 + 150) * 4] ^= 1;
        assert_eq!(
            changed_rects(&a, &b, 160, 144, Rects::One, 3),
            vec![(3, 5, 148, 136)]
        );
        assert_eq!(
            changed_rects(&a, &b, 160, 144, Rects::Several, 3),
            vec![(3, 5, 1, 1), (150, 140, 1, 1)]
        );
        assert!(changed_rects(&a, &a, 160, 144, Rects::Several, 3).is_empty());
    }
}
