//! One feed's history: closed segments, the one being written, and the markers.

use super::marker::{Marker, MarkerFinder};
use super::segment::{decode, Held, Segment};
use super::Shared;
use crate::frame::{Frame, SharedFrame};
use crate::source::recording::RecordingWriter;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

/// The segment being written: the writer keeps its buffers across segments.
struct Open {
    writer: RecordingWriter<Vec<u8>>,
    size: (u32, u32),
    frames: Vec<Held>,
}

#[derive(Default)]
struct Inner {
    closed: VecDeque<Segment>,
    open: Option<Open>,
    markers: VecDeque<Marker>,
    finder: MarkerFinder,
    previous_content: Option<u64>,
    /// Bytes counted into the shared total.
    bytes: u64,
}

impl Inner {
    fn open_size(&self) -> u64 {
        self.open.as_ref().map_or(0, |o| {
            (o.writer.bytes() as usize + o.frames.len() * std::mem::size_of::<Held>()) as u64
        })
    }

    fn size(&self) -> u64 {
        self.closed.iter().map(Segment::size).sum::<u64>() + self.open_size()
    }

    /// Closes the open segment (when it has frames) into `closed`.
    fn close(&mut self, next: Option<RecordingWriter<Vec<u8>>>) {
        let Some(open) = self.open.as_mut() else {
            return;
        };
        if !open.frames.is_empty() {
            let Ok(bytes) = open.writer.start_over(Vec::new()) else {
                return;
            };
            let frames = std::mem::take(&mut open.frames);
            self.closed.push_back(Segment {
                bytes: bytes.into(),
                frames,
            });
        }
        if let Some(w) = next {
            open.size = (w.header().width, w.header().height);
            open.writer = w;
        }
    }

    /// The segment and index of the newest frame made at or before `t_ns`; the open
    /// segment is `closed.len()`.
    fn locate(&self, t_ns: u64) -> Option<(usize, usize)> {
        let open = self.open.as_ref().filter(|o| !o.frames.is_empty());
        if let Some(o) = open {
            if o.frames[0].at_ns <= t_ns {
                let i = o.frames.partition_point(|h| h.at_ns <= t_ns) - 1;
                return Some((self.closed.len(), i));
            }
        }
        let s = self.closed.partition_point(|s| s.first_ns() <= t_ns);
        let s = s.checked_sub(1)?;
        Some((s, self.closed[s].index_at(t_ns)?))
    }

    /// The bytes and side list of segment `s` (a copy of the open one's records).
    fn segment(&self, s: usize) -> (Arc<[u8]>, &[Held]) {
        match self.closed.get(s) {
            Some(seg) => (seg.bytes.clone(), &seg.frames),
            None => {
                let o = self.open.as_ref().expect("located in the open segment");
                let mut w = o.writer.get_ref().clone();
                w.shrink_to_fit();
                (w.into(), &o.frames)
            }
        }
    }

    fn segments(&self) -> usize {
        self.closed.len() + usize::from(self.open.as_ref().is_some_and(|o| !o.frames.is_empty()))
    }

    fn held(&self, s: usize) -> &[Held] {
        match self.closed.get(s) {
            Some(seg) => &seg.frames,
            None => self.open.as_ref().map_or(&[], |o| &o.frames),
        }
    }
}

/// One feed's recent frames with their info, compressed as recordings are, and its markers.
pub struct FeedHistory {
    shared: Arc<Shared>,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for FeedHistory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedHistory")
            .field("frames", &self.len())
            .finish()
    }
}

impl FeedHistory {
    pub(super) fn new(shared: Arc<Shared>) -> FeedHistory {
        FeedHistory {
            shared,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Keeps a captured frame (frames that do not encode are left out), then trims the
    /// process's history to its budget.
    pub fn push(&self, frame: &Frame) {
        let opts = &self.shared.options;
        {
            let mut g = self.inner.lock().unwrap();
            let size = (frame.width, frame.height);
            let new_writer = match &g.open {
                Some(o) if o.size == size => None,
                _ => match RecordingWriter::new(Vec::new(), size.0, size.1) {
                    Ok(mut w) => {
                        w.set_level(opts.level);
                        w.predict_moved();
                        Some(w)
                    }
                    Err(_) => return,
                },
            };
            let full = g
                .open
                .as_ref()
                .is_some_and(|o| o.frames.len() >= opts.keyframe_every);
            if g.open.is_none() {
                let writer = new_writer.expect("made when there is no open segment");
                g.open = Some(Open {
                    writer,
                    size,
                    frames: Vec::new(),
                });
            } else if full || new_writer.is_some() {
                g.close(new_writer);
            }
            // The publisher's clock when known, so every feed lines up on when its frames
            // were made; never backwards, so the frames stay in order.
            let last = g
                .open
                .as_ref()
                .and_then(|o| o.frames.last())
                .map(|h| h.at_ns);
            let at = frame
                .published_ns
                .unwrap_or(frame.captured_ns)
                .max(last.unwrap_or(0));
            let open = g.open.as_mut().expect("opened above");
            let info = frame.info.as_deref();
            if open
                .writer
                .write_frame_with_info(frame.frame_index, at, &frame.pixels, info)
                .is_err()
            {
                return;
            }
            open.frames.push(Held {
                at_ns: at,
                published_ns: frame.published_ns,
                content_id: frame.content_id,
            });
            let changed = g.previous_content != Some(frame.content_id);
            g.previous_content = Some(frame.content_id);
            let stuck = opts.stuck_after.as_nanos() as u64;
            let found = g.finder.frame(at, changed, info, &opts.rules, stuck);
            g.markers.extend(found);
            self.recount(&mut g);
        }
        self.shared.trim_soon();
    }

    /// Marks the feed going offline now (once per outage).
    pub fn mark_offline(&self, at_ns: u64) {
        let mut g = self.inner.lock().unwrap();
        if let Some(m) = g.finder.offline(at_ns) {
            g.markers.push_back(m);
        }
    }

    fn recount(&self, g: &mut Inner) {
        let now = g.size();
        let before = std::mem::replace(&mut g.bytes, now);
        if now >= before {
            self.shared.bytes.fetch_add(now - before, Ordering::Relaxed);
        } else {
            self.shared.bytes.fetch_sub(before - now, Ordering::Relaxed);
        }
    }

    /// The oldest closed segment that does not overlap `pin`.
    fn droppable(g: &Inner, pin: Option<(u64, u64)>) -> Option<usize> {
        g.closed
            .iter()
            .position(|seg| !pin.is_some_and(|(from, to)| seg.overlaps(from, to)))
    }

    /// Drops the oldest closed segment that does not overlap `pin`, if it ends before
    /// `before_ns` (or always, for `None`); returns whether it did.
    pub(super) fn drop_oldest(&self, before_ns: Option<u64>, pin: Option<(u64, u64)>) -> bool {
        let mut g = self.inner.lock().unwrap();
        let Some(s) = Self::droppable(&g, pin) else {
            return false;
        };
        let (first, last) = (g.closed[s].first_ns(), g.closed[s].last_ns());
        if before_ns.is_some_and(|b| last >= b) {
            return false;
        }
        g.closed.remove(s);
        let from = if s == 0 { 0 } else { first };
        g.markers.retain(|m| m.at_ns < from || m.at_ns > last);
        self.recount(&mut g);
        true
    }

    /// When its oldest droppable segment starts (the history's clock), if it has one.
    pub(super) fn oldest_droppable(&self, pin: Option<(u64, u64)>) -> Option<u64> {
        let g = self.inner.lock().unwrap();
        Self::droppable(&g, pin).map(|s| g.closed[s].first_ns())
    }

    /// Frames held.
    pub fn len(&self) -> usize {
        let g = self.inner.lock().unwrap();
        (0..g.segments()).map(|s| g.held(s).len()).sum()
    }

    /// True when no frame is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.inner.lock().unwrap().bytes
    }

    /// Times (ns, the history's clock) of the oldest and newest frames held.
    pub fn span(&self) -> Option<(u64, u64)> {
        let g = self.inner.lock().unwrap();
        let n = g.segments();
        let first = g.held(0).first()?.at_ns;
        let last = g.held(n - 1).last()?.at_ns;
        Some((first, last))
    }

    /// The frame shown at `t_ns`: the newest made at or before it.
    pub fn at(&self, t_ns: u64) -> Option<SharedFrame> {
        let g = self.inner.lock().unwrap();
        let (s, i) = g.locate(t_ns)?;
        let (bytes, frames) = g.segment(s);
        let frames = frames.to_vec();
        drop(g);
        let mut out = None;
        decode(bytes, &frames, i, i, |f| out = Some(f));
        out
    }

    /// The time of the frame `steps` frames after (or before, when negative) the
    /// one shown at `t_ns`, clamped to the frames held.
    pub fn step(&self, t_ns: u64, steps: i64) -> Option<u64> {
        let g = self.inner.lock().unwrap();
        let (mut s, i) = g
            .locate(t_ns)
            .or_else(|| (g.segments() > 0).then_some((0, 0)))?;
        let mut i = i as i64 + steps;
        while i < 0 && s > 0 {
            s -= 1;
            i += g.held(s).len() as i64;
        }
        while i >= g.held(s).len() as i64 && s + 1 < g.segments() {
            i -= g.held(s).len() as i64;
            s += 1;
        }
        let held = g.held(s);
        let i = i.clamp(0, held.len() as i64 - 1) as usize;
        Some(held[i].at_ns)
    }

    /// Every frame held made in `[from_ns, to_ns]`, oldest first.
    pub fn frames(&self, from_ns: u64, to_ns: u64) -> Vec<SharedFrame> {
        let g = self.inner.lock().unwrap();
        let mut out = Vec::new();
        for s in 0..g.segments() {
            let held = g.held(s);
            let first = held.partition_point(|h| h.at_ns < from_ns);
            let end = held.partition_point(|h| h.at_ns <= to_ns);
            if first >= end {
                continue;
            }
            let (bytes, frames) = g.segment(s);
            decode(bytes, frames, first, end - 1, |f| out.push(f));
        }
        out
    }

    /// The markers of the frames held, oldest first.
    pub fn markers(&self) -> Vec<Marker> {
        self.inner.lock().unwrap().markers.iter().cloned().collect()
    }
}
