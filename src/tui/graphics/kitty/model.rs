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
