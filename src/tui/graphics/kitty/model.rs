//! A model of what a kitty terminal holds, for the tests: it reads escape codes the way
//! kitty 0.26 does and rejects anything 0.26 would not accept.

use std::collections::HashMap;

/// Keys kitty 0.26 accepts in a graphics command (its parser rejects any other with
/// "invalid key character").
const KEYS_026: &str = "aqfmtosvSOixyXYwhcrpCzdIHVUZPQ";

/// A model of what a kitty terminal holds, built by reading our escape codes the way
/// kitty 0.26 does: images by id with one RGBA frame, edits composed onto it,
/// placements by (image, placement) id. It rejects anything 0.26 would not accept.
#[derive(Default)]
pub(super) struct Model {
    pub(super) images: HashMap<u32, (u32, u32, Vec<u8>)>,
    pub(super) placements: HashMap<(u32, u32), (u16, u16, u16, u16)>,
    /// Frames 2, 3, ... of each image (frame 1 is `images`' pixels).
    pub(super) frames: HashMap<u32, Vec<Vec<u8>>>,
    loading: Option<(HashMap<char, String>, Vec<u8>)>,
    cursor: (u16, u16),
    saved: (u16, u16),
}

impl Model {
    pub(super) fn feed(&mut self, bytes: &[u8]) {
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
                    self.cursor = (c.parse::<u16>().unwrap() - 1, r.parse::<u16>().unwrap() - 1);
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
                    let n = info.color_type.samples();
                    buf[..info.buffer_size()]
                        .chunks_exact(n)
                        .flat_map(|p| [p[0], p[1], p[2], if n == 4 { p[3] } else { 255 }])
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
                self.frames.remove(&id);
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
            "f" => self.frame(k, &to_rgba(num('f'), &data)),
            "c" => self.compose(k),
            "d" => {
                assert_eq!(k.get(&'d').map(String::as_str), Some("I"));
                let id = num('i');
                self.images.remove(&id);
                self.frames.remove(&id);
                self.placements.retain(|&(i, _), _| i != id);
            }
            a => panic!("action {a}"),
        }
    }
}

impl Model {
    /// The pixels of frame `n` (1-based) of image `id`.
    fn frame_mut(&mut self, id: u32, n: u32) -> &mut Vec<u8> {
        if n == 1 {
            &mut self.images.get_mut(&id).expect("no such image").2
        } else {
            &mut self.frames.get_mut(&id).expect("no extra frames")[n as usize - 2]
        }
    }

    /// `a=f`: edits frame `r`, or adds a frame on a copy of frame `c`; pixels of alpha 0
    /// leave what is under them (kitty blends; this model accepts only alpha 0 and 255).
    fn frame(&mut self, k: &HashMap<char, String>, px: &[u8]) {
        let num = |c: char| k.get(&c).map(|v| v.parse::<u32>().unwrap()).unwrap_or(0);
        let id = num('i');
        let w = self.images.get(&id).expect("frame for no image").0;
        let target = if num('r') > 0 {
            num('r')
        } else {
            assert!(num('c') > 0, "a new frame without a base frame");
            let base = self.frame_mut(id, num('c')).clone();
            let frames = self.frames.entry(id).or_default();
            frames.push(base);
            frames.len() as u32 + 1
        };
        let (x, y, s, v) = (num('x'), num('y'), num('s'), num('v'));
        assert_eq!(px.len(), (s * v * 4) as usize);
        let blend = num('X') != 1;
        let img = self.frame_mut(id, target);
        for row in 0..v {
            for col in 0..s {
                let dst = (((y + row) * w + x + col) * 4) as usize;
                let src = ((row * s + col) * 4) as usize;
                let a = px[src + 3];
                assert!(a == 0 || a == 255, "alpha {a}");
                if a == 255 || !blend {
                    img[dst..dst + 4].copy_from_slice(&px[src..src + 4]);
                }
            }
        }
    }

    /// `a=c`: copies a rectangle from frame `r` to frame `c` (kitty 0.26 refuses
    /// overlapping rectangles within one frame).
    fn compose(&mut self, k: &HashMap<char, String>) {
        let num = |c: char| k.get(&c).map(|v| v.parse::<u32>().unwrap()).unwrap_or(0);
        let id = num('i');
        let (iw, ih, _) = self.images[&id];
        let (w, h) = match (num('w'), num('h')) {
            (0, 0) => (iw, ih),
            wh => wh,
        };
        let (x, y, sx, sy) = (num('x'), num('y'), num('X'), num('Y'));
        assert!(
            x + w <= iw && y + h <= ih && sx + w <= iw && sy + h <= ih,
            "out of bounds"
        );
        let (src, dst) = (num('r'), num('c'));
        if src == dst {
            let overlap = sx.max(x) < sx.min(x) + w && sy.max(y) < sy.min(y) + h;
            assert!(
                !overlap,
                "kitty refuses overlapping rectangles in one frame"
            );
        }
        assert_eq!(num('C'), 1, "replace, not blend");
        let from = self.frame_mut(id, src).clone();
        let to = self.frame_mut(id, dst);
        for row in 0..h {
            let s0 = (((sy + row) * iw + sx) * 4) as usize;
            let d0 = (((y + row) * iw + x) * 4) as usize;
            to[d0..d0 + (w * 4) as usize].copy_from_slice(&from[s0..s0 + (w * 4) as usize]);
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
