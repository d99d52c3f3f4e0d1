//! A frame's palette for sixel: its exact colours while there are at most
//! [`MAX_EXACT_COLOURS`], found through a small open-addressing table (no hashing library:
//! a frame has a handful of colours and this is looked up for every pixel shown), or the
//! used colours of a 6x6x6 cube once there are more.

/// Colours a frame may have and still get an exact palette.
pub const MAX_EXACT_COLOURS: usize = 256;

/// Slots of the table: a power of two, at most half full.
const SLOTS: usize = 2 * MAX_EXACT_COLOURS;
/// A free slot (colours are 24-bit, so no colour has this key).
const FREE: u32 = u32::MAX;

/// The palette being built for one frame.
#[derive(Debug)]
pub(super) struct Palette {
    /// The colours, in order of first use.
    pub colours: Vec<[u8; 3]>,
    keys: Box<[u32; SLOTS]>,
    values: Box<[u8; SLOTS]>,
    /// Palette index of each cube colour once quantised (`u8::MAX`: unused).
    cube: [u8; 216],
    quantised: bool,
}

impl Default for Palette {
    fn default() -> Palette {
        Palette {
            colours: Vec::new(),
            keys: Box::new([FREE; SLOTS]),
            values: Box::new([0; SLOTS]),
            cube: [u8::MAX; 216],
            quantised: false,
        }
    }
}

/// The 24-bit key of the RGBA pixel at `p[..4]`: red in the low byte.
#[inline]
pub(super) fn key(p: &[u8]) -> u32 {
    u32::from_le_bytes([p[0], p[1], p[2], p[3]]) & 0x00ff_ffff
}

/// The colour of a key.
fn rgb(key: u32) -> [u8; 3] {
    [key as u8, (key >> 8) as u8, (key >> 16) as u8]
}

/// The table slot where looking for `key` starts.
#[inline]
fn first_slot(key: u32) -> usize {
    (key.wrapping_mul(0x9e37_79b1) >> 23) as usize & (SLOTS - 1)
}

impl Palette {
    /// Empties the palette for a new frame, exact again.
    pub fn clear(&mut self) {
        self.colours.clear();
        self.keys.fill(FREE);
        self.cube = [u8::MAX; 216];
        self.quantised = false;
    }

    /// True when the frame had too many colours and [`Palette::quantise`] was used.
    pub fn quantised(&self) -> bool {
        self.quantised
    }

    /// Switches to the 6x6x6 cube (after [`Palette::exact`] found too many colours).
    pub fn start_quantising(&mut self) {
        self.clear();
        self.quantised = true;
    }

    /// The index of colour `key`, added when new; `None` when the palette is full.
    pub fn exact(&mut self, key: u32) -> Option<u8> {
        let mut slot = first_slot(key);
        loop {
            match self.keys[slot] {
                k if k == key => return Some(self.values[slot]),
                FREE => break,
                _ => slot = (slot + 1) & (SLOTS - 1),
            }
        }
        if self.colours.len() == MAX_EXACT_COLOURS {
            return None;
        }
        let i = self.colours.len() as u8;
        self.colours.push(rgb(key));
        self.keys[slot] = key;
        self.values[slot] = i;
        Some(i)
    }

    /// Indexes the pixels of `row` (RGBA) at the groups' source columns into `dst` while
    /// their colours are in their first slot; returns how many were.
    #[inline]
    pub fn known(&self, row: &[u8], groups: &[(usize, usize)], dst: &mut [u8]) -> usize {
        for (n, (d, &(sx, _))) in dst.iter_mut().zip(groups).enumerate() {
            let k = key(&row[sx * 4..sx * 4 + 4]);
            let slot = first_slot(k);
            if self.keys[slot] != k {
                return n;
            }
            *d = self.values[slot];
        }
        dst.len().min(groups.len())
    }

    /// The index of the cube colour nearest to `key`, added when new.
    pub fn quantise(&mut self, key: u32) -> u8 {
        let level = |v: u32| ((v & 255) * 5 + 127) / 255;
        let cube = (level(key) * 36 + level(key >> 8) * 6 + level(key >> 16)) as usize;
        if self.cube[cube] == u8::MAX {
            self.cube[cube] = self.colours.len() as u8;
            let v = |l: usize| (l * 51) as u8;
            self.colours
                .push([v(cube / 36), v(cube / 6 % 6), v(cube % 6)]);
        }
        self.cube[cube]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_colours_keep_their_first_index_until_full() {
        let mut p = Palette::default();
        for i in 0..MAX_EXACT_COLOURS as u32 {
            assert_eq!(p.exact(i << 8 | i), Some(i as u8));
        }
        assert_eq!(p.exact(0x000000), Some(0));
        assert_eq!(p.exact(0x00ffff), Some(255));
        assert_eq!(p.exact(0xfffffe), None);
        assert_eq!(p.colours[1], [1, 1, 0]);
        assert_eq!(key(&[1, 2, 3, 255]), 0x030201);
        p.clear();
        assert_eq!(p.exact(0xfffffe), Some(0));
    }

    #[test]
    fn quantised_colours_are_cube_corners() {
        let mut p = Palette::default();
        p.start_quantising();
        assert!(p.quantised());
        assert_eq!(p.quantise(0xfefefe), 0);
        assert_eq!(p.quantise(0x000001), 1);
        assert_eq!(p.quantise(0xffffff), 0);
        assert_eq!(p.quantise(0x0000c0), 2);
        assert_eq!(p.colours, [[255, 255, 255], [0, 0, 0], [204, 0, 0]]);
    }
}
