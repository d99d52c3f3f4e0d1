//! The monitor's state and `update(event)`: no I/O here, so every key and every figure can
//! be tested without a terminal.

use super::map::{MapKey, MapState};
use super::timeline::{clip_key, time_key, ClipSpan, TimeMove, Timeline};
use super::training::{Training, RETURN_FIELD};
use crate::frame::SharedFrame;
use crate::info::Scalar;
use crate::pipeline::{FeedState, MapSnapshot, Stage, StatsSnapshot, PRESETS};
use crate::source::DEMO_KEY;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::collections::VecDeque;

/// Stuck after 30 s without a change, unless `--stuck-after` says otherwise.
pub const DEFAULT_STUCK_AFTER_NS: u64 = 30_000_000_000;

/// How many samples each latency sparkline keeps.
pub const HISTORY: usize = 60;

/// The stages the latency panel shows, in order.
pub const PANEL_STAGES: [Stage; 4] = [Stage::Capture, Stage::Scale, Stage::Encode, Stage::Draw];

/// One feed as the monitor sees it.
#[derive(Debug, Clone)]
pub struct FeedView {
    /// The newest reading of the feed.
    pub reading: FeedUpdate,
    /// The frame on screen (the newest drawn).
    pub frame: Option<SharedFrame>,
    /// p99 per panel stage (µs), one sample per refresh.
    pub history: [VecDeque<u64>; 4],
    /// Its training as seen in the frames drawn: stuck detection, episode returns.
    pub training: Training,
}

impl FeedView {
    /// A feed not heard from yet: waiting, no frame, no figures.
    pub fn new(name: &str, key: &str) -> FeedView {
        FeedView {
            reading: FeedUpdate::new(name, key),
            frame: None,
            history: Default::default(),
            training: Training::default(),
        }
    }

    /// The feed's name.
    pub fn name(&self) -> &str {
        &self.reading.name
    }

    /// The feed's key (unique per source).
    pub fn key(&self) -> &str {
        &self.reading.key
    }

    /// True when the feed is not producing (offline, error, ended).
    pub fn is_offline(&self) -> bool {
        matches!(
            self.reading.state,
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
    /// The feed's name.
    pub name: String,
    /// Unique per source (path or URL); matches the update to its [`FeedView`].
    pub key: String,
    /// What the feed is doing.
    pub state: FeedState,
    /// The pipeline's figures for the feed.
    pub stats: StatsSnapshot,
    /// Frames drawn per second.
    pub drawn_fps: f64,
}

impl FeedUpdate {
    /// A waiting feed with no figures.
    pub fn new(name: &str, key: &str) -> FeedUpdate {
        FeedUpdate {
            name: name.to_string(),
            key: key.to_string(),
            state: FeedState::Waiting,
            stats: StatsSnapshot::default(),
            drawn_fps: 0.0,
        }
    }
}

/// What happens to the monitor.
#[derive(Debug, Clone)]
pub enum Event {
    /// A key was pressed.
    Key(KeyEvent),
    /// Feeds as they are now (discovery order), at `now_ns` on the monotonic clock.
    Feeds {
        /// Every feed's reading, in discovery order.
        feeds: Vec<FeedUpdate>,
        /// The monotonic clock now.
        now_ns: u64,
    },
    /// New frames drawn (by feed key), without a stats refresh, at `now_ns`.
    Frames {
        /// (feed key, frame) for each feed with a new frame.
        frames: Vec<(String, SharedFrame)>,
        /// The monotonic clock now.
        now_ns: u64,
    },
    /// New figures from the draw loop.
    Draw(DrawFigures),
    /// The terminal's size changed.
    Resize(u16, u16),
    /// A snapshot was written (path) or failed (message).
    Snapshot(Result<String, String>),
    /// Where the envs are now (sent while the map is shown).
    Map(MapSnapshot),
    /// The frames of an instant of the history (`at_ns`), or the newest again when live
    /// (`None`); each feed's frame by key.
    Shown {
        /// The instant shown (the history's clock), `None` for live.
        at_ns: Option<u64>,
        /// (feed key, its frame at that instant).
        frames: Vec<(String, SharedFrame)>,
    },
    /// What the timeline strip shows now.
    Timeline(Timeline),
    /// A clip was written (path) or failed (message).
    Clip(Result<String, String>),
    /// The env with this feed index was clicked on the map: zoom it.
    Pick(usize),
}

/// What the caller must do after an update (the state does no I/O itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Leave the monitor.
    Quit,
    /// Switch every feed to this preset (index into [`PRESETS`]).
    SetPreset(usize),
    /// Save the shown frame of the feed with this key as a JPEG.
    Snapshot(String),
    /// Move in time (the history decides where that lands), about the env with this key.
    Time(TimeMove, Option<String>),
    /// Save a clip of the env with this key, of this span around the shown instant.
    Clip(String, ClipSpan),
}

/// The grid's order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// Discovery order.
    #[default]
    Discovery,
    /// By the label field, lowest first (envs without it last).
    Ascending,
    /// By the label field, highest first (envs without it last).
    Descending,
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
    /// Every env's position on one map.
    Map,
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
    /// The terminal side's figures.
    pub draw: DrawFigures,
    /// The monotonic clock at the last feed refresh: ages are measured against it.
    pub now_ns: u64,
    /// Where sources are looked for, for the "waiting" message.
    pub source_hint: String,
    /// Terminal size in cells (columns, rows).
    pub size: (u16, u16),
    /// The info field tiles show, sort by and watch for stuck envs.
    pub label: Option<String>,
    /// The grid's order.
    pub order: Order,
    /// Only envs whose name contains this (any case) are shown.
    pub filter: String,
    /// Keys go to the filter (after `/`, until enter or esc).
    pub filtering: bool,
    /// An env whose picture or label field has not changed for this long is stuck.
    pub stuck_after_ns: u64,
    /// The map view's state.
    pub map: MapState,
    /// The instant every view is paused at (the history's clock); `None` while live.
    pub paused_at: Option<u64>,
    /// The timeline strip, while the process keeps history.
    pub timeline: Option<Timeline>,
}

impl State {
    /// A state with no feeds yet; `source_hint` goes into the waiting message.
    pub fn new(preset: usize, source_hint: &str) -> State {
        State {
            preset,
            source_hint: source_hint.to_string(),
            label: Some(RETURN_FIELD.to_string()),
            stuck_after_ns: DEFAULT_STUCK_AFTER_NS,
            ..State::default()
        }
    }

    /// Indexes of the feeds shown, in the grid's order: the demo feed only while no real
    /// feed exists, and only feeds that pass the filter.
    pub fn visible(&self) -> Vec<usize> {
        let real = self.feeds.iter().any(|f| f.key() != DEMO_KEY);
        let filter = self.filter.to_lowercase();
        let mut shown: Vec<usize> = (0..self.feeds.len())
            .filter(|&i| !real || self.feeds[i].key() != DEMO_KEY)
            .filter(|&i| self.feeds[i].name().to_lowercase().contains(&filter))
            .collect();
        if self.order != Order::Discovery {
            let value = |i: usize| self.label_value(&self.feeds[i]).and_then(|v| v.as_f64());
            shown.sort_by(|&a, &b| match (value(a), value(b)) {
                (Some(x), Some(y)) if self.order == Order::Ascending => x.total_cmp(&y),
                (Some(x), Some(y)) => y.total_cmp(&x),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            });
        }
        shown
    }

    /// The label field's value in the frame on screen for `feed`.
    pub fn label_value<'a>(&self, feed: &'a FeedView) -> Option<&'a Scalar> {
        let label = self.label.as_deref()?;
        feed.frame.as_ref()?.info.as_deref()?.get(label)
    }

    /// How long `feed` has looked stuck, if it does (it is online and has a frame).
    pub fn stuck_for(&self, feed: &FeedView) -> Option<u64> {
        if feed.is_offline() || feed.frame.is_none() || self.holding() {
            return None;
        }
        feed.training.stuck_for(self.now_ns, self.stuck_after_ns)
    }

    /// True while the frames on screen are kept: frozen or paused.
    pub fn holding(&self) -> bool {
        self.frozen || self.paused_at.is_some()
    }

    /// The env keys and clips are about: the one full size, else the selected tile.
    pub fn target(&self) -> Option<&FeedView> {
        match self.view() {
            View::Single(_) => self.current(),
            View::Grid => self.visible().get(self.selected).map(|&i| &self.feeds[i]),
            View::Empty | View::Map => None,
        }
    }

    /// The env time keys step by: [`State::target`], or on the map the selected env (else
    /// the first shown).
    pub fn time_target(&self) -> Option<&FeedView> {
        match self.view() {
            View::Map => {
                let vis = self.visible();
                let i = self.map.selected.filter(|s| vis.contains(s));
                i.or(vis.first().copied()).map(|i| &self.feeds[i])
            }
            _ => self.target(),
        }
    }

    /// How many shown feeds look stuck.
    pub fn stuck_count(&self) -> usize {
        self.visible()
            .into_iter()
            .filter(|&i| self.stuck_for(&self.feeds[i]).is_some())
            .count()
    }

    /// The info fields of the frames on screen, in first-seen order.
    pub fn fields(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for f in &self.feeds {
            if let Some(info) = f.frame.as_ref().and_then(|fr| fr.info.as_deref()) {
                for (k, _) in info.fields() {
                    if !names.contains(k) {
                        names.push(k.clone());
                    }
                }
            }
        }
        names
    }

    /// One feed full size when only one is shown or a tile is zoomed, else the grid.
    pub fn view(&self) -> View {
        let n = self.visible().len();
        match n {
            0 => View::Empty,
            _ if self.map.shown => View::Map,
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
            Event::Frames { frames, now_ns } => {
                self.now_ns = now_ns;
                if !self.holding() {
                    let label = self.label.as_deref();
                    for (key, frame) in frames {
                        if let Some(f) = self.feeds.iter_mut().find(|f| f.key() == key) {
                            f.training.observe(&frame, label, now_ns);
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
            Event::Map(snapshot) => {
                self.map.snapshot = snapshot;
                Vec::new()
            }
            Event::Snapshot(r) => {
                self.message = Some(match r {
                    Ok(path) => format!("snapshot saved: {path}"),
                    Err(e) => format!("snapshot failed: {e}"),
                });
                Vec::new()
            }
            Event::Shown { at_ns, frames } => {
                self.paused_at = at_ns;
                for (key, frame) in frames {
                    if let Some(f) = self.feeds.iter_mut().find(|f| f.key() == key) {
                        f.frame = Some(frame);
                    }
                }
                Vec::new()
            }
            Event::Timeline(t) => {
                self.timeline = Some(t);
                Vec::new()
            }
            Event::Pick(feed) => {
                if self.view() == View::Map {
                    self.map.selected = Some(feed);
                    self.map_key(KeyCode::Enter);
                }
                Vec::new()
            }
            Event::Clip(r) => {
                self.message = Some(match r {
                    Ok(path) => format!("clip saved: {path}"),
                    Err(e) => format!("clip failed: {e}"),
                });
                Vec::new()
            }
        }
    }

    fn refresh(&mut self, feeds: Vec<FeedUpdate>) {
        let mut next = Vec::with_capacity(feeds.len());
        for u in feeds {
            let mut view = match self.feeds.iter().position(|f| f.key() == u.key) {
                Some(i) => self.feeds[i].clone(),
                None => FeedView::new(&u.name, &u.key),
            };
            for (h, stage) in view.history.iter_mut().zip(PANEL_STAGES) {
                let p = u.stats.latency(stage);
                h.push_back(if p.count > 0 { p.p99_us } else { 0 });
                while h.len() > HISTORY {
                    h.pop_front();
                }
            }
            view.reading = u;
            next.push(view);
        }
        self.feeds = next;
        let n = self.visible().len();
        if n > 0 && self.selected >= n {
            self.selected = n - 1;
        }
    }

    /// The keys of pause, replay and clips, while history is kept; `None` for any other.
    fn timeline_key(&mut self, code: KeyCode) -> Option<Vec<Action>> {
        self.timeline.as_ref()?;
        if let Some(m) = time_key(code, self.paused_at.is_some()) {
            let about = self.time_target().map(|f| f.key().to_string());
            return Some(vec![Action::Time(m, about)]);
        }
        let span = clip_key(code)?;
        Some(match self.target() {
            Some(f) => vec![Action::Clip(f.key().to_string(), span)],
            None => {
                self.message = Some("no env to clip".to_string());
                Vec::new()
            }
        })
    }

    fn key(&mut self, key: KeyEvent) -> Vec<Action> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return vec![Action::Quit];
        }
        if self.help {
            // Any key closes the help; q still quits.
            self.help = false;
            if key.code == KeyCode::Char('q') {
                return vec![Action::Quit];
            }
            return Vec::new();
        }
        if self.filtering {
            self.filter_key(key.code);
            return Vec::new();
        }
        if self.view() == View::Map {
            match self.map_key(key.code) {
                MapKey::Other => {}
                _ => return Vec::new(),
            }
        }
        if let Some(actions) = self.timeline_key(key.code) {
            return actions;
        }
        let n = self.visible().len();
        match key.code {
            KeyCode::Char('m') => self.map.shown = true,
            KeyCode::Esc if self.map.back => {
                self.map.back = false;
                self.map.shown = true;
                self.zoomed = false;
            }
            KeyCode::Char('q') => {
                return vec![Action::Quit];
            }
            KeyCode::Char('/') => {
                self.filtering = true;
                self.message = Some(format!("filter: {}_", self.filter));
            }
            KeyCode::Char('L') => self.next_label(),
            KeyCode::Char('o') => self.next_order(),
            KeyCode::Esc => {
                if self.zoomed && n > 1 {
                    self.zoomed = false;
                } else {
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
            KeyCode::Char('s') => match self.target() {
                Some(f) if f.frame.is_some() => return vec![Action::Snapshot(f.key().to_string())],
                _ => self.message = Some("no frame to save yet".to_string()),
            },
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

    /// A key while the filter is being typed: text, backspace, enter keeps it, esc clears it.
    fn filter_key(&mut self, code: KeyCode) {
        match code {
            KeyCode::Char(c) => self.filter.push(c),
            KeyCode::Backspace => {
                self.filter.pop();
            }
            KeyCode::Enter => self.filtering = false,
            KeyCode::Esc => {
                self.filter.clear();
                self.filtering = false;
            }
            _ => {}
        }
        self.selected = 0;
        self.message = Some(if self.filtering {
            format!("filter: {}_", self.filter)
        } else if self.filter.is_empty() {
            "filter cleared".to_string()
        } else {
            format!("filter: {}", self.filter)
        });
    }

    /// The next info field as the label (after the last: none).
    fn next_label(&mut self) {
        let fields = self.fields();
        let at = self
            .label
            .as_ref()
            .and_then(|l| fields.iter().position(|f| f == l));
        self.label = match at {
            Some(i) => fields.get(i + 1).cloned(),
            None => fields.first().cloned(),
        };
        for f in &mut self.feeds {
            f.training.relabel();
        }
        self.message = Some(match &self.label {
            Some(l) => format!("label: {l}"),
            None => "label: none".to_string(),
        });
    }

    /// Discovery order, then lowest label value first, then highest first.
    fn next_order(&mut self) {
        self.order = match self.order {
            Order::Discovery => Order::Ascending,
            Order::Ascending => Order::Descending,
            Order::Descending => Order::Discovery,
        };
        let label = self.label.as_deref().unwrap_or("-");
        self.message = Some(match self.order {
            Order::Discovery => "order: discovery".to_string(),
            Order::Ascending => format!("order: {label}, lowest first"),
            Order::Descending => format!("order: {label}, highest first"),
        });
    }

    /// The map's list of the envs shown: (feed index, name) in [`State::visible`]'s order.
    pub fn map_entries(&self) -> Vec<super::map::Entry> {
        let shown: Vec<(usize, &str)> = self
            .visible()
            .into_iter()
            .map(|i| (i, self.feeds[i].name()))
            .collect();
        self.map.entries(&shown)
    }

    /// A key on the map; choosing an env zooms it.
    fn map_key(&mut self, code: KeyCode) -> MapKey {
        let list = self.map_entries();
        let done = self.map.key(code, &list);
        if let MapKey::Zoom(feed) = done {
            if let Some(i) = self.visible().iter().position(|&j| j == feed) {
                self.selected = i;
                self.zoomed = true;
            }
        }
        done
    }

    /// Columns of the grid at the current size.
    pub fn grid_columns(&self) -> usize {
        let (w, h) = self.size;
        super::geometry::grid_shape(self.visible().len(), w, h.saturating_sub(1)).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{self, online};
    use std::sync::Arc;

    fn key(c: KeyCode) -> Event {
        Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
    }

    fn upd(name: &str) -> FeedUpdate {
        online(name)
    }

    fn frame(published_ns: Option<u64>) -> SharedFrame {
        fixtures::frame(2, 2, published_ns)
    }

    fn frames(key: &str, frame: SharedFrame, now_ns: u64) -> Event {
        Event::Frames {
            frames: vec![(key.into(), frame)],
            now_ns,
        }
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
        }
        let mut s = State::new(1, "");
        s.update(key(KeyCode::Char('?')));
        assert!(s.help);
        assert!(s.update(key(KeyCode::Char('x'))).is_empty());
        assert!(!s.help);
        assert_eq!(s.update(key(KeyCode::Char('?'))), vec![]);
        assert_eq!(s.update(key(KeyCode::Char('q'))), vec![Action::Quit]);
    }

    #[test]
    fn freeze_keeps_the_frame() {
        let mut s = State::new(1, "");
        let a = frame(Some(1));
        s.update(Event::Feeds {
            feeds: vec![upd("env-00")],
            now_ns: 2,
        });
        s.update(frames("env-00", a.clone(), 2));
        s.update(key(KeyCode::Char(' ')));
        assert!(s.frozen);
        s.update(frames("env-00", frame(Some(5)), 6));
        assert!(Arc::ptr_eq(s.feeds[0].frame.as_ref().unwrap(), &a));
        s.update(key(KeyCode::Char('f')));
        s.update(frames("env-00", frame(Some(5)), 6));
        assert_eq!(s.feeds[0].frame.as_ref().unwrap().published_ns, Some(5));
    }

    #[test]
    fn time_keys_need_history_and_paused_frames_stay() {
        let mut s = State::new(1, "");
        s.update(Event::Feeds {
            feeds: vec![upd("env-00")],
            now_ns: 2,
        });
        let k = s.feeds[0].key().to_string();
        // Without history, p and , are nothing.
        assert!(s.update(key(KeyCode::Char('p'))).is_empty());
        s.update(Event::Timeline(Timeline::default()));
        assert_eq!(
            s.update(key(KeyCode::Char('p'))),
            vec![Action::Time(TimeMove::Pause, Some(k.clone()))]
        );
        let old = frame(Some(1));
        s.update(Event::Shown {
            at_ns: Some(1),
            frames: vec![(k.clone(), old.clone())],
        });
        assert!(s.holding());
        s.update(frames(&k, frame(Some(5)), 6));
        assert!(Arc::ptr_eq(s.feeds[0].frame.as_ref().unwrap(), &old));
        assert_eq!(
            s.update(key(KeyCode::Char('p'))),
            vec![Action::Time(TimeMove::Live, Some(k.clone()))]
        );
        assert_eq!(
            s.update(key(KeyCode::Char(','))),
            vec![Action::Time(TimeMove::Step(-1), Some(k.clone()))]
        );
        assert_eq!(
            s.update(key(KeyCode::Char('c'))),
            vec![Action::Clip(k.clone(), ClipSpan::Last)]
        );
        assert_eq!(
            s.update(key(KeyCode::Char('C'))),
            vec![Action::Clip(k, ClipSpan::BetweenMarkers)]
        );
        s.update(Event::Shown {
            at_ns: None,
            frames: Vec::new(),
        });
        assert!(!s.holding());
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
        assert_eq!(s.current().unwrap().name(), format!("env-{cols:02}"));
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
        assert_eq!(s.current().unwrap().key(), DEMO_KEY);
        s.update(Event::Feeds {
            feeds: vec![demo, upd("env-00")],
            now_ns: 0,
        });
        assert_eq!(s.visible(), vec![1]);
        assert_eq!(s.current().unwrap().name(), "env-00");
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
        s.update(frames("env-00", frame(None), 0));
        assert_eq!(
            s.update(key(KeyCode::Char('s'))),
            vec![Action::Snapshot("env-00".into())]
        );
    }

    #[test]
    fn age_uses_publisher_timestamp_else_arrival() {
        let mut s = State::new(1, "");
        s.update(Event::Feeds {
            feeds: vec![upd("env-00")],
            now_ns: 0,
        });
        s.update(frames("env-00", frame(Some(1_000_000)), 251_000_000));
        assert_eq!(s.age_ns(&s.feeds[0]), Some(250_000_000));
        s.update(frames("env-00", frame(None), 251_000_000));
        // Without a publisher clock, the age counts from capture (captured_ns = 1000).
        assert_eq!(s.age_ns(&s.feeds[0]), Some(251_000_000 - 1_000));
    }

    fn with_info(ret: f64, content: u64) -> SharedFrame {
        let mut f = fixtures::raw_frame(2, 2, None);
        f.content_id = content;
        let mut info = crate::info::Info::new();
        info.push("episode_return", Scalar::Float(ret)).unwrap();
        info.push("step", Scalar::Int(content as i64)).unwrap();
        f.info = Some(Arc::new(info));
        Arc::new(f)
    }

    fn three_envs() -> State {
        let mut s = State::new(1, "");
        s.size = (200, 60);
        let names = ["env-00", "env-01", "other-02"];
        s.update(Event::Feeds {
            feeds: names.iter().map(|n| upd(n)).collect(),
            now_ns: 0,
        });
        for (i, (n, ret)) in names.iter().zip([5.0, -1.0, 2.0]).enumerate() {
            s.update(frames(n, with_info(ret, i as u64 + 1), 0));
        }
        s
    }

    fn shown(s: &State) -> Vec<&str> {
        s.visible().iter().map(|&i| s.feeds[i].name()).collect()
    }

    #[test]
    fn sort_by_the_label_field_both_ways() {
        let mut s = three_envs();
        assert_eq!(shown(&s), ["env-00", "env-01", "other-02"]);
        s.update(key(KeyCode::Char('o')));
        assert_eq!(shown(&s), ["env-01", "other-02", "env-00"]);
        s.update(key(KeyCode::Char('o')));
        assert_eq!(shown(&s), ["env-00", "other-02", "env-01"]);
        s.update(key(KeyCode::Char('o')));
        assert_eq!(shown(&s), ["env-00", "env-01", "other-02"]);
    }

    #[test]
    fn the_label_key_cycles_through_the_fields() {
        let mut s = three_envs();
        assert_eq!(s.label.as_deref(), Some("episode_return"));
        s.update(key(KeyCode::Char('L')));
        assert_eq!(s.label.as_deref(), Some("step"));
        assert_eq!(s.label_value(&s.feeds[2]), Some(&Scalar::Int(3)));
        s.update(key(KeyCode::Char('L')));
        assert_eq!(s.label, None);
        s.update(key(KeyCode::Char('L')));
        assert_eq!(s.label.as_deref(), Some("episode_return"));
    }

    #[test]
    fn slash_filters_by_name_until_esc() {
        let mut s = three_envs();
        s.update(key(KeyCode::Char('/')));
        for c in "ENV".chars() {
            s.update(key(KeyCode::Char(c)));
        }
        // Typed keys go to the filter, q included.
        assert!(s.update(key(KeyCode::Char('q'))).is_empty());
        s.update(key(KeyCode::Backspace));
        s.update(key(KeyCode::Enter));
        assert_eq!(shown(&s), ["env-00", "env-01"]);
        assert!(!s.filtering);
        s.update(key(KeyCode::Char('/')));
        s.update(key(KeyCode::Esc));
        assert_eq!(shown(&s).len(), 3);
    }

    #[test]
    fn an_env_whose_picture_stays_is_stuck_and_counted() {
        let mut s = three_envs();
        s.stuck_after_ns = 10_000_000_000;
        s.label = None;
        // env-00 keeps sending the same picture; the others move.
        for t in 1..=12u64 {
            let now = t * 1_000_000_000;
            s.update(frames("env-00", with_info(5.0, 1), now));
            s.update(frames("env-01", with_info(-1.0, 100 + t), now));
            s.update(frames("other-02", with_info(2.0, 200 + t), now));
        }
        assert_eq!(s.stuck_for(&s.feeds[0]), Some(12_000_000_000));
        assert_eq!(s.stuck_for(&s.feeds[1]), None);
        assert_eq!(s.stuck_count(), 1);
        s.update(frames("env-00", with_info(5.0, 2), 13_000_000_000));
        assert_eq!(s.stuck_count(), 0);
    }
}
