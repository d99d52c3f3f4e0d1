//! The monitor's state and `update(event)`: no I/O here, so every key and every figure can
//! be tested without a terminal.

use crate::frame::SharedFrame;
use crate::pipeline::{FeedState, Stage, StatsSnapshot, PRESETS};
use crate::source::DEMO_KEY;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::collections::VecDeque;

/// How many samples each latency sparkline keeps.
pub const HISTORY: usize = 60;

/// The stages the latency panel shows, in order.
pub const PANEL_STAGES: [Stage; 4] = [Stage::Capture, Stage::Scale, Stage::Encode, Stage::Draw];

/// One feed as the monitor sees it.
#[derive(Debug, Clone)]
pub struct FeedView {
    pub name: String,
    /// Unique per source (path or URL); updates are matched by it.
    pub key: String,
    pub state: FeedState,
    pub stats: StatsSnapshot,
    /// The frame on screen (the newest drawn).
    pub frame: Option<SharedFrame>,
    /// Frames drawn per second.
    pub drawn_fps: f64,
    /// p99 per panel stage (µs), one sample per refresh.
    pub history: [VecDeque<u64>; 4],
}

impl FeedView {
    /// A feed not heard from yet: waiting, no frame, no figures.
    pub fn new(name: &str, key: &str) -> FeedView {
        FeedView {
            name: name.to_string(),
            key: key.to_string(),
            state: FeedState::Waiting,
            stats: StatsSnapshot::default(),
            frame: None,
            drawn_fps: 0.0,
            history: Default::default(),
        }
    }

    /// True when the feed is not producing (offline, error, ended).
    pub fn is_offline(&self) -> bool {
        matches!(
            self.state,
            FeedState::Offline(_) | FeedState::Error(_) | FeedState::Ended
        )
    }
}

/// Figures about the terminal side, from the draw loop.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DrawFigures {
    /// Bytes per second written to the terminal (last second).
    pub out_bytes_per_s: f64,
    /// The draw rate aimed at now (preset fps, lowered when the terminal is slow).
    pub target_fps: f64,
    /// True when the draw rate was lowered because the terminal could not keep up.
    pub adapted: bool,
    /// Draw ticks skipped because the terminal was still taking the previous frame.
    pub skipped_busy: u64,
    /// How frames are drawn ("half-blocks 256 colours", "sixel", …).
    pub protocol: String,
}

/// A fresh reading of one feed, handed to [`State::update`].
#[derive(Debug, Clone)]
pub struct FeedUpdate {
    pub name: String,
    /// Unique per source (path or URL); matches the update to its [`FeedView`].
    pub key: String,
    pub state: FeedState,
    pub stats: StatsSnapshot,
    /// A newer frame to show, if one was drawn.
    pub frame: Option<SharedFrame>,
    /// Frames drawn per second.
    pub drawn_fps: f64,
}

/// What happens to the monitor.
#[derive(Debug, Clone)]
pub enum Event {
    Key(KeyEvent),
    /// Feeds as they are now (discovery order), at `now_ns` on the monotonic clock.
    Feeds {
        feeds: Vec<FeedUpdate>,
        now_ns: u64,
    },
    /// New frames drawn (by feed key), without a stats refresh.
    Frames(Vec<(String, SharedFrame)>),
    /// New figures from the draw loop.
    Draw(DrawFigures),
    /// The terminal's size changed.
    Resize(u16, u16),
    /// A snapshot was written (path) or failed (message).
    Snapshot(Result<String, String>),
}

/// What the caller must do after an update (the state does no I/O itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Quit,
    /// Switch every feed to this preset (index into [`PRESETS`]).
    SetPreset(usize),
    /// Save the shown frame of the feed with this key as a JPEG.
    Snapshot(String),
}

/// What the screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Nothing discovered yet.
    Empty,
    /// One feed, full size with its panels (index into [`State::visible`]).
    Single(usize),
    /// All feeds as tiles.
    Grid,
}

/// The monitor's whole state.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// Every feed in discovery order, the demo included (see [`State::visible`]).
    pub feeds: Vec<FeedView>,
    /// Selected tile (index into [`State::visible`]).
    pub selected: usize,
    /// A grid tile shown full size.
    pub zoomed: bool,
    /// Frames on screen are kept (space or `f` toggles).
    pub frozen: bool,
    /// The help overlay is shown.
    pub help: bool,
    /// Index into [`PRESETS`].
    pub preset: usize,
    /// Notice shown in the status bar in place of the env count.
    pub message: Option<String>,
    pub draw: DrawFigures,
    /// The monotonic clock at the last feed refresh: ages are measured against it.
    pub now_ns: u64,
    /// Where sources are looked for, for the "waiting" message.
    pub source_hint: String,
    /// Terminal size in cells (columns, rows).
    pub size: (u16, u16),
    /// Set when a key asked to quit.
    pub quit: bool,
}

impl State {
    /// A state with no feeds yet; `source_hint` goes into the waiting message.
    pub fn new(preset: usize, source_hint: &str) -> State {
        State {
            preset,
            source_hint: source_hint.to_string(),
            ..State::default()
        }
    }

    /// Indexes of the feeds shown: the demo feed only while no real feed exists.
    pub fn visible(&self) -> Vec<usize> {
        let real = self.feeds.iter().any(|f| f.key != DEMO_KEY);
        (0..self.feeds.len())
            .filter(|&i| !real || self.feeds[i].key != DEMO_KEY)
            .collect()
    }

    /// One feed full size when only one is shown or a tile is zoomed, else the grid.
    pub fn view(&self) -> View {
        let n = self.visible().len();
        match n {
            0 => View::Empty,
            1 => View::Single(0),
            _ if self.zoomed => View::Single(self.selected.min(n - 1)),
            _ => View::Grid,
        }
    }

    /// The feed shown full size, if any.
    pub fn current(&self) -> Option<&FeedView> {
        match self.view() {
            View::Single(i) => self.visible().get(i).map(|&j| &self.feeds[j]),
            _ => None,
        }
    }

    /// Age (ns) of the frame on screen for `feed`, measured from the publisher's timestamp
    /// when the source has one.
    pub fn age_ns(&self, feed: &FeedView) -> Option<u64> {
        feed.frame.as_ref().map(|f| f.age_ns(self.now_ns))
    }

    /// Applies one event; returns what the caller must do.
    pub fn update(&mut self, event: Event) -> Vec<Action> {
        match event {
            Event::Key(key) => self.key(key),
            Event::Feeds { feeds, now_ns } => {
                self.now_ns = now_ns;
                self.refresh(feeds);
                Vec::new()
            }
            Event::Frames(frames) => {
                if !self.frozen {
                    for (key, frame) in frames {
                        if let Some(f) = self.feeds.iter_mut().find(|f| f.key == key) {
                            f.frame = Some(frame);
                        }
                    }
                }
                Vec::new()
            }
            Event::Draw(d) => {
                self.draw = d;
                Vec::new()
            }
            Event::Resize(w, h) => {
                self.size = (w, h);
                Vec::new()
            }
            Event::Snapshot(r) => {
                self.message = Some(match r {
                    Ok(path) => format!("snapshot saved: {path}"),
                    Err(e) => format!("snapshot failed: {e}"),
                });
                Vec::new()
            }
        }
    }

    fn refresh(&mut self, feeds: Vec<FeedUpdate>) {
        let mut next = Vec::with_capacity(feeds.len());
        for u in feeds {
            let mut view = match self.feeds.iter().position(|f| f.key == u.key) {
                Some(i) => self.feeds[i].clone(),
                None => FeedView::new(&u.name, &u.key),
            };
            view.name = u.name;
            view.state = u.state;
            view.drawn_fps = u.drawn_fps;
            for (h, stage) in view.history.iter_mut().zip(PANEL_STAGES) {
                let p = u.stats.latency(stage);
                h.push_back(if p.count > 0 { p.p99_us } else { 0 });
                while h.len() > HISTORY {
                    h.pop_front();
                }
            }
            view.stats = u.stats;
            if !self.frozen {
                if let Some(frame) = u.frame {
                    view.frame = Some(frame);
                }
            }
            next.push(view);
        }
        self.feeds = next;
        let n = self.visible().len();
        if n > 0 && self.selected >= n {
            self.selected = n - 1;
        }
    }

    fn key(&mut self, key: KeyEvent) -> Vec<Action> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.quit = true;
            return vec![Action::Quit];
        }
        if self.help {
            // Any key closes the help; q still quits.
            self.help = false;
            if key.code == KeyCode::Char('q') {
                self.quit = true;
                return vec![Action::Quit];
            }
            return Vec::new();
        }
        let n = self.visible().len();
        match key.code {
            KeyCode::Char('q') => {
                self.quit = true;
                return vec![Action::Quit];
            }
            KeyCode::Esc => {
                if self.zoomed && n > 1 {
                    self.zoomed = false;
                } else {
                    self.quit = true;
                    return vec![Action::Quit];
                }
            }
            KeyCode::Char(c @ '1'..='4') => {
                self.preset = c as usize - '1' as usize;
                return vec![Action::SetPreset(self.preset)];
            }
            KeyCode::Char('+') | KeyCode::Char('=') => {
                self.preset = (self.preset + 1).min(PRESETS.len() - 1);
                return vec![Action::SetPreset(self.preset)];
            }
            KeyCode::Char('-') | KeyCode::Char('_') => {
                self.preset = self.preset.saturating_sub(1);
                return vec![Action::SetPreset(self.preset)];
            }
            KeyCode::Char(' ') | KeyCode::Char('f') => {
                self.frozen = !self.frozen;
                self.message = Some(if self.frozen { "frozen" } else { "live" }.to_string());
            }
            KeyCode::Char('?') => self.help = true,
            KeyCode::Char('s') => {
                let target = match self.view() {
                    View::Single(_) => self.current(),
                    View::Grid => self.visible().get(self.selected).map(|&i| &self.feeds[i]),
                    View::Empty => None,
                };
                match target {
                    Some(f) if f.frame.is_some() => return vec![Action::Snapshot(f.key.clone())],
                    _ => self.message = Some("no frame to save yet".to_string()),
                }
            }
            KeyCode::Enter | KeyCode::Char('e') if self.view() == View::Grid => {
                self.zoomed = true;
            }
            KeyCode::Left | KeyCode::Char('h') if self.view() == View::Grid => {
                self.selected = self.selected.saturating_sub(1);
            }
            KeyCode::Right | KeyCode::Char('l') if self.view() == View::Grid => {
                self.selected = (self.selected + 1).min(n.saturating_sub(1));
            }
            KeyCode::Up | KeyCode::Char('k') if self.view() == View::Grid => {
                let cols = self.grid_columns();
                self.selected = self.selected.saturating_sub(cols);
            }
            KeyCode::Down | KeyCode::Char('j') if self.view() == View::Grid => {
                let cols = self.grid_columns();
                if self.selected + cols < n {
                    self.selected += cols;
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// Columns of the grid at the current size.
    pub fn grid_columns(&self) -> usize {
        let (w, h) = self.size;
        super::panels::grid_shape(self.visible().len(), w, h.saturating_sub(1)).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Frame;
    use std::sync::Arc;
    use std::time::Instant;

    fn key(c: KeyCode) -> Event {
        Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
    }

    fn upd(name: &str) -> FeedUpdate {
        FeedUpdate {
            name: name.into(),
            key: name.into(),
            state: FeedState::Online,
            stats: StatsSnapshot::default(),
            frame: None,
            drawn_fps: 0.0,
        }
    }

    fn frame(published_ns: Option<u64>) -> SharedFrame {
        Arc::new(Frame {
            frame_index: 7,
            published_ns,
            captured_at: Instant::now(),
            capture_us: 1,
            captured_ns: 1_000,
            width: 2,
            height: 2,
            pixels: vec![0; 16],
            content_id: 1,
            info: None,
        })
    }

    #[test]
    fn preset_keys() {
        let mut s = State::new(1, "");
        assert_eq!(
            s.update(key(KeyCode::Char('3'))),
            vec![Action::SetPreset(2)]
        );
        assert_eq!(s.preset, 2);
        s.update(key(KeyCode::Char('+')));
        s.update(key(KeyCode::Char('+')));
        assert_eq!(s.preset, 3);
        s.update(key(KeyCode::Char('-')));
        assert_eq!(s.preset, 2);
        s.update(key(KeyCode::Char('1')));
        s.update(key(KeyCode::Char('-')));
        assert_eq!(s.preset, 0);
    }

    #[test]
    fn quit_keys_and_help() {
        for k in [
            key(KeyCode::Char('q')),
            key(KeyCode::Esc),
            Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        ] {
            let mut s = State::new(1, "");
            assert_eq!(s.update(k), vec![Action::Quit]);
            assert!(s.quit);
        }
        let mut s = State::new(1, "");
        s.update(key(KeyCode::Char('?')));
        assert!(s.help);
        assert!(s.update(key(KeyCode::Char('x'))).is_empty());
        assert!(!s.help && !s.quit);
    }

    #[test]
    fn freeze_keeps_the_frame() {
        let mut s = State::new(1, "");
        let a = frame(Some(1));
        let mut u = upd("env-00");
        u.frame = Some(a.clone());
        s.update(Event::Feeds {
            feeds: vec![u],
            now_ns: 2,
        });
        s.update(key(KeyCode::Char(' ')));
        assert!(s.frozen);
        s.update(Event::Frames(vec![("env-00".into(), frame(Some(5)))]));
        assert!(Arc::ptr_eq(s.feeds[0].frame.as_ref().unwrap(), &a));
        s.update(key(KeyCode::Char('f')));
        s.update(Event::Frames(vec![("env-00".into(), frame(Some(5)))]));
        assert_eq!(s.feeds[0].frame.as_ref().unwrap().published_ns, Some(5));
    }

    #[test]
    fn grid_selection_zoom_and_back() {
        let mut s = State::new(1, "");
        s.size = (200, 60);
        s.update(Event::Feeds {
            feeds: (0..9).map(|i| upd(&format!("env-{i:02}"))).collect(),
            now_ns: 0,
        });
        assert_eq!(s.view(), View::Grid);
        let cols = s.grid_columns();
        assert!(cols > 1);
        s.update(key(KeyCode::Char('l')));
        s.update(key(KeyCode::Down));
        assert_eq!(s.selected, 1 + cols);
        s.update(key(KeyCode::Char('h')));
        assert_eq!(s.selected, cols);
        s.update(key(KeyCode::Enter));
        assert_eq!(s.view(), View::Single(cols));
        assert_eq!(s.current().unwrap().name, format!("env-{cols:02}"));
        assert!(s.update(key(KeyCode::Esc)).is_empty());
        assert_eq!(s.view(), View::Grid);
    }

    #[test]
    fn demo_feed_hidden_when_real_feeds_exist() {
        let mut s = State::new(1, "");
        let mut demo = upd("demo");
        demo.key = DEMO_KEY.into();
        s.update(Event::Feeds {
            feeds: vec![demo.clone()],
            now_ns: 0,
        });
        assert_eq!(s.current().unwrap().key, DEMO_KEY);
        s.update(Event::Feeds {
            feeds: vec![demo, upd("env-00")],
            now_ns: 0,
        });
        assert_eq!(s.visible(), vec![1]);
        assert_eq!(s.current().unwrap().name, "env-00");
    }

    #[test]
    fn snapshot_needs_a_frame() {
        let mut s = State::new(1, "");
        s.update(Event::Feeds {
            feeds: vec![upd("env-00")],
            now_ns: 0,
        });
        assert!(s.update(key(KeyCode::Char('s'))).is_empty());
        assert!(s.message.as_deref().unwrap().contains("no frame"));
        s.update(Event::Frames(vec![("env-00".into(), frame(None))]));
        assert_eq!(
            s.update(key(KeyCode::Char('s'))),
            vec![Action::Snapshot("env-00".into())]
        );
    }

    #[test]
    fn age_uses_publisher_timestamp_else_arrival() {
        let mut s = State::new(1, "");
        let mut u = upd("env-00");
        u.frame = Some(frame(Some(1_000_000)));
        s.update(Event::Feeds {
            feeds: vec![u],
            now_ns: 251_000_000,
        });
        assert_eq!(s.age_ns(&s.feeds[0]), Some(250_000_000));
        s.update(Event::Frames(vec![("env-00".into(), frame(None))]));
        // Without a publisher clock, the age counts from capture (captured_ns = 1000).
        assert_eq!(s.age_ns(&s.feeds[0]), Some(251_000_000 - 1_000));
    }
}
