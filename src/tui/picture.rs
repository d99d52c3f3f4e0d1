//! The pictures on screen: kitty or sixel pictures in every view ([`Painter`]), a
//! half-block renderer per feed (only changed cells are rewritten), or one iTerm2 picture
//! for the single view, rebuilt only when the frame or its area changes.

use super::graphics::painter::Painter;
use super::graphics::worker::{Done, OwnedPicture, PictureWorker};
use super::halfblock::{dimmed, ColorMode, HalfblockRenderer};
use super::panels::{reset_cells, PictureArea, Screen};
use super::protocol::Choice;
use super::state::{State, View};
use crate::encode::scale_rgba;
use crate::frame::SharedFrame;
use ratatui::layout::Rect;
use ratatui_image::picker::Picker;
use ratatui_image::protocol::Protocol;
use std::collections::HashMap;
use std::time::Duration;

/// A graphics picture and what it was built from: (content, area, scale, dim).
struct GraphicsPicture {
    key: (u64, Rect, u32, bool),
    /// ratatui-image's picture, encoded for the terminal.
    encoded: Protocol,
}

/// Everything that draws frames into their picture areas.
pub struct Pictures {
    mode: ColorMode,
    /// kitty or sixel, in every view, encoded on the picture thread.
    worker: Option<PictureWorker>,
    /// The terminal's pictures must be sent in full with the next job.
    invalidate_worker: bool,
    /// A draw came while the worker was busy: draw again when it is done.
    redraw_wanted: bool,
    /// iTerm2 through ratatui-image, single view only.
    picker: Option<Picker>,
    /// Said after the protocol's name (see [`Choice::note`]).
    note: Option<String>,
    halfblocks: HashMap<String, HalfblockRenderer>,
    graphics: Option<GraphicsPicture>,
    /// The picture areas and help flag of the last draw: a change means cells must be rewritten.
    last_layout: (Vec<PictureArea>, bool),
    /// Graphics pictures built so far.
    built: u64,
}

impl Pictures {
    /// Pictures drawn the way `choice` says; half-blocks in `mode` where no graphics
    /// protocol draws them.
    pub fn new(choice: Choice, mode: ColorMode) -> Pictures {
        Pictures {
            mode,
            worker: Painter::new(choice.protocol, choice.cell).map(PictureWorker::spawn),
            invalidate_worker: false,
            redraw_wanted: false,
            picker: choice.iterm2,
            note: choice.note,
            halfblocks: HashMap::new(),
            graphics: None,
            last_layout: (Vec::new(), false),
            built: 0,
        }
    }

    /// How frames are drawn, in words ("half-blocks 256 colours", "kitty").
    pub fn protocol_name(&self) -> String {
        let name = match (&self.worker, &self.picker) {
            (Some(w), _) => w.name().to_string(),
            (None, Some(p)) => format!("{:?}", p.protocol_type()).to_lowercase(),
            (None, None) => format!("half-blocks {}", self.mode.name()),
        };
        match &self.note {
            Some(note) => format!("{name}, {note}"),
            None => name,
        }
    }

    fn graphics_view(&self, state: &State) -> bool {
        self.picker.is_some() && matches!(state.view(), View::Single(_))
    }

    /// Forgets what the terminal shows: every picture is drawn in full next time.
    pub fn invalidate(&mut self) {
        self.halfblocks.values_mut().for_each(|r| r.invalidate());
        self.graphics = None;
        self.invalidate_worker = true;
    }

    /// Appends what removes this program's pictures from the terminal (before quitting),
    /// waiting for the picture thread at most `timeout`.
    pub fn clear(&mut self, out: &mut Vec<u8>, timeout: Duration) {
        if let Some(w) = self.worker.take() {
            out.extend(w.finish(timeout));
        }
    }

    /// Where the picture thread's finished jobs arrive (never, without one).
    pub fn done(&self) -> crossbeam_channel::Receiver<Done> {
        self.worker
            .as_ref()
            .map_or_else(crossbeam_channel::never, |w| w.done())
    }

    /// Takes note of a finished job; true when a draw was skipped meanwhile and is due.
    pub fn finished(&mut self) -> bool {
        if let Some(w) = &mut self.worker {
            w.finished();
        }
        std::mem::take(&mut self.redraw_wanted)
    }

    /// True (and everything invalidated) when the picture areas or the help overlay changed
    /// since the last call: the caller must have every cell written again.
    pub fn layout_changed(&mut self, screen: &Screen, help: bool) -> bool {
        if self.last_layout.0 == screen.images && self.last_layout.1 == help {
            return false;
        }
        self.last_layout = (screen.images.clone(), help);
        self.invalidate();
        true
    }

    /// Draws the iTerm2 picture into ratatui's buffer (single view, not under the help
    /// overlay); nothing otherwise.
    pub fn draw_graphics(
        &mut self,
        f: &mut ratatui::Frame,
        state: &State,
        screen: &Screen,
        scale: u32,
    ) {
        let (true, Some(area)) = (self.graphics_view(state), screen.images.first()) else {
            return;
        };
        let (Some(picker), Some(frame)) = (&self.picker, &state.feeds[area.feed].frame) else {
            return;
        };
        let key = (frame.content_id, area.rect, scale, area.dim);
        if self.graphics.as_ref().is_none_or(|g| g.key != key) {
            self.graphics = encoded_picture(picker, frame, area.rect, scale, area.dim)
                .map(|encoded| GraphicsPicture { key, encoded });
            self.built += 1;
        }
        if let Some(g) = &self.graphics {
            reset_cells(f.buffer_mut(), area.rect, false);
            f.render_widget(ratatui_image::Image::new(&g.encoded), area.rect);
        }
    }

    /// Appends the half-block pictures' escape codes to `out` (not in the iTerm2 view) and
    /// returns each drawn feed's resampling time; or hands the kitty or sixel pictures to
    /// the picture thread, whose codes arrive on [`done`](Self::done).
    pub fn draw_pictures(
        &mut self,
        state: &State,
        screen: &Screen,
        scale: u32,
        out: &mut Vec<u8>,
    ) -> Vec<(String, Duration)> {
        if let Some(worker) = &mut self.worker {
            if worker.busy() {
                self.redraw_wanted = true;
                return Vec::new();
            }
            let pictures: Vec<OwnedPicture> = screen
                .images
                .iter()
                .filter_map(|area| {
                    let feed = &state.feeds[area.feed];
                    Some(OwnedPicture {
                        key: feed.key().to_string(),
                        frame: feed.frame.clone()?,
                        rect: area.rect,
                        dim: area.dim,
                    })
                })
                .collect();
            worker.submit(pictures, std::mem::take(&mut self.invalidate_worker));
            return Vec::new();
        }
        let mut resampled = Vec::new();
        if self.graphics_view(state) {
            return resampled;
        }
        for area in &screen.images {
            let feed = &state.feeds[area.feed];
            let Some(frame) = &feed.frame else { continue };
            let r = self
                .halfblocks
                .entry(feed.key().to_string())
                .or_insert_with(|| HalfblockRenderer::new(self.mode));
            r.render(
                &frame.pixels,
                frame.width,
                frame.height,
                frame.content_id,
                area.rect,
                scale,
                area.dim,
                out,
            );
            resampled.push((feed.key().to_string(), r.last_resample_time()));
        }
        resampled
    }
}

/// The frame at `scale`, greyed when `dim`, encoded by ratatui-image to fit `rect`.
fn encoded_picture(
    picker: &Picker,
    frame: &SharedFrame,
    rect: Rect,
    scale: u32,
    dim: bool,
) -> Option<Protocol> {
    let (w, h, k) = (
        frame.width as usize,
        frame.height as usize,
        scale.max(1) as usize,
    );
    let mut scaled = Vec::new();
    scale_rgba(&frame.pixels, w, h, k, &mut scaled);
    if dim {
        for px in scaled.chunks_exact_mut(4) {
            (px[0], px[1], px[2]) = dimmed(px[0], px[1], px[2]);
        }
    }
    let img = image::RgbaImage::from_raw((w * k) as u32, (h * k) as u32, scaled)?;
    picker
        .new_protocol(
            image::DynamicImage::ImageRgba8(img),
            rect.as_size(),
            ratatui_image::Resize::Fit(None),
        )
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{frame, online};
    use crate::tui::panels::layout;
    use crate::tui::state::Event;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    use ratatui_image::picker::ProtocolType;

    fn state_with(n: usize) -> State {
        let mut s = State::new(1, "");
        s.update(Event::Resize(100, 40));
        let names: Vec<String> = (0..n).map(|i| format!("env-{i}")).collect();
        s.update(Event::Feeds {
            feeds: names.iter().map(|n| online(n)).collect(),
            now_ns: 0,
        });
        s.update(Event::Frames {
            frames: names
                .iter()
                .map(|n| (n.clone(), frame(160, 144, None)))
                .collect(),
            now_ns: 0,
        });
        s
    }

    #[test]
    fn halfblocks_rewrite_only_what_changed() {
        let s = state_with(2);
        let screen = layout(&s, Rect::new(0, 0, 100, 40));
        let mut p = Pictures::new(Choice::halfblocks(), ColorMode::Ansi256);
        assert!(p.layout_changed(&screen, false));
        let mut out = Vec::new();
        assert_eq!(p.draw_pictures(&s, &screen, 2, &mut out).len(), 2);
        assert!(!out.is_empty());
        assert!(!p.layout_changed(&screen, false));
        out.clear();
        p.draw_pictures(&s, &screen, 2, &mut out);
        assert!(
            out.is_empty(),
            "an unchanged frame wrote {} bytes",
            out.len()
        );
        // Opening or closing the help draws the pictures in full again.
        assert!(p.layout_changed(&screen, true));
        assert!(p.layout_changed(&screen, false));
        p.draw_pictures(&s, &screen, 2, &mut out);
        assert!(!out.is_empty());
    }

    #[test]
    fn help_hides_only_the_pictures_under_it() {
        let mut s = state_with(16);
        s.update(Event::Resize(200, 60));
        let area = Rect::new(0, 0, 200, 60);
        let all = layout(&s, area).images.len();
        s.help = true;
        let shown = layout(&s, area).images.len();
        assert_eq!(all, 16);
        assert!(
            shown > 0 && shown < all,
            "{shown} of {all} pictures beside the help"
        );
    }

    #[test]
    fn help_beside_the_single_picture_leaves_it_drawn() {
        let mut s = state_with(1);
        s.help = true;
        let screen = layout(&s, Rect::new(0, 0, 100, 40));
        let help = screen.help.expect("help open");
        assert_eq!(screen.images.len(), 1);
        assert!(!screen.images[0].rect.intersects(help));
        let mut p = Pictures::new(Choice::halfblocks(), ColorMode::TrueColor);
        let mut out = Vec::new();
        p.draw_pictures(&s, &screen, 2, &mut out);
        assert!(!out.is_empty(), "the picture is drawn with the help open");
    }

    #[test]
    fn help_in_a_narrow_single_view_hides_the_picture_under_it() {
        let mut s = state_with(1);
        s.help = true;
        let screen = layout(&s, Rect::new(0, 0, 60, 20));
        let help = screen.help.expect("help open");
        assert!(screen.images.iter().all(|a| !a.rect.intersects(help)));
    }

    #[test]
    fn graphics_picture_is_built_once_per_frame_and_area() {
        let s = state_with(1);
        let area = Rect::new(0, 0, 100, 40);
        let screen = layout(&s, area);
        let mut picker = Picker::halfblocks();
        picker.set_protocol_type(ProtocolType::Iterm2);
        let choice = Choice {
            iterm2: Some(picker),
            ..Choice::halfblocks()
        };
        let mut p = Pictures::new(choice, ColorMode::Ansi256);
        assert_eq!(p.protocol_name(), "iterm2");
        let mut t = Terminal::new(TestBackend::new(100, 40)).unwrap();
        for _ in 0..3 {
            t.draw(|f| p.draw_graphics(f, &s, &screen, 2)).unwrap();
        }
        assert_eq!(p.built, 1);
        // The single view with graphics writes no half-blocks.
        let mut out = Vec::new();
        assert!(p.draw_pictures(&s, &screen, 2, &mut out).is_empty());
        p.invalidate();
        t.draw(|f| p.draw_graphics(f, &s, &screen, 2)).unwrap();
        assert_eq!(p.built, 2);
    }
}
