//! The terminal monitor's loop: wait for input, frames or the next due time; update the
//! state; draw when the pacing says so. Drawing builds one update in memory (panels by
//! ratatui, pictures by [`Pictures`]) and hands it to the [`TerminalWriter`]; when the
//! terminal is still taking the previous one, the draw is skipped and the rate lowered.

use super::input::Input;
use super::output::{synchronized, Rate, TerminalWriter, UpdateBuffer};
use super::pacing::Pacer;
use super::panels::{layout, marker_at, Areas, Panels};
use super::picture::Pictures;
use super::protocol::Choice;
use super::replay;
use super::state::{Action, DrawFigures, Event, FeedUpdate, State};
use super::terminal::{MOUSE_OFF, MOUSE_ON};
use super::{halfblock::ColorMode, snapshot};
use crate::encode::{Backend, JpegCache};
use crate::frame::SharedFrame;
use crate::pipeline::{FeedSet, Stage};
use crossterm::event as ct;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long quitting waits for the last write to a terminal that may have stopped reading.
const WRITER_GRACE: Duration = Duration::from_millis(200);

/// How the monitor was asked to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// A key asked to quit.
    Quit,
    /// A termination signal arrived.
    Signal(i32),
    /// The terminal went away (input or output failed).
    TerminalGone,
}

/// What the monitor is set up with.
pub struct Setup {
    /// Where pictures go when drawn with half-blocks.
    pub colors: ColorMode,
    /// How pictures are drawn.
    pub graphics: Choice,
    /// Where `s` saves snapshots.
    pub snapshot_dir: PathBuf,
    /// Where sources are looked for, for the waiting message.
    pub source_hint: String,
    /// The terminal's size in cells.
    pub size: (u16, u16),
    /// The info field tiles show.
    pub label: Option<String>,
    /// When an env with an unchanged picture or label counts as stuck.
    pub stuck_after: Duration,
    /// Start in the map view.
    pub map: bool,
    /// The map's layout file, read.
    pub map_layout: Option<crate::pipeline::WorldLayout>,
    /// The map's background picture, decoded.
    pub map_image: Option<super::map_image::MapImage>,
    /// Ask the terminal to report clicks while the map is shown (`--no-mouse`: never).
    pub mouse: bool,
}

/// The monitor: state, pacing, pictures and the terminal output.
pub struct Monitor {
    set: FeedSet,
    state: State,
    pacer: Pacer,
    pictures: Pictures,
    out: UpdateBuffer,
    terminal: Terminal<CrosstermBackend<UpdateBuffer>>,
    writer: TerminalWriter,
    drawn: HashMap<String, Rate>,
    out_rate: Rate,
    jpeg: JpegCache,
    snapshot_dir: PathBuf,
    /// Picture codes from the picture thread not written yet (the writer was busy).
    pending_pictures: Vec<u8>,
    /// When the screen was paused (the history's clock): the pin runs from the shown
    /// instant to it.
    paused_since: u64,
    /// Clicks may be reported (see [`Setup::mouse`]).
    mouse: bool,
    /// The terminal reports clicks now (only while the map is shown).
    mouse_on: bool,
}

impl Monitor {
    /// A monitor of `set` writing through `writer`.
    pub fn new(set: FeedSet, setup: Setup, writer: TerminalWriter) -> std::io::Result<Monitor> {
        let out = UpdateBuffer::default();
        let (w, h) = setup.size;
        let terminal = Terminal::with_options(
            CrosstermBackend::new(out.clone()),
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
            },
        )?;
        let mut state = State::new(set.settings.get().preset, &setup.source_hint);
        state.update(Event::Resize(w, h));
        state.label = setup.label;
        state.stuck_after_ns = setup.stuck_after.as_nanos() as u64;
        state.map.shown = setup.map;
        state.map.layout = setup.map_layout.map(Arc::new);
        state.map.background = setup.map_image.map(Arc::new);
        Ok(Monitor {
            set,
            state,
            pacer: Pacer::new(Instant::now()),
            pictures: Pictures::new(setup.graphics, setup.colors),
            out,
            terminal,
            writer,
            drawn: HashMap::new(),
            out_rate: Rate::default(),
            jpeg: JpegCache::new(Backend::best()),
            snapshot_dir: setup.snapshot_dir,
            pending_pictures: Vec::new(),
            paused_since: 0,
            mouse: setup.mouse,
            mouse_on: false,
        })
    }

    /// Runs until a key quits, `signal` reports a signal or the terminal goes away.
    pub fn run(mut self, input: &Input, signal: impl Fn() -> Option<i32>) -> std::io::Result<Exit> {
        let arrivals = self.set.arrivals();
        let pictures = self.pictures.done();
        let no_arrivals = crossbeam_channel::never();
        let exit = loop {
            if let Some(sig) = signal() {
                break Exit::Signal(sig);
            }
            if self.writer.failed() {
                break Exit::TerminalGone;
            }
            let fps = self.set.settings.get().fps();
            let wait = self.pacer.wait(Instant::now(), fps, self.state.holding());
            // Once frames wait for a draw, more arrivals need not wake the loop before it.
            let arrived = if self.pacer.frames_waiting() {
                &no_arrivals
            } else {
                &arrivals
            };
            crossbeam_channel::select! {
                recv(input.events) -> event => match event {
                    Ok(Ok(event)) => {
                        if self.handle(event)? {
                            break Exit::Quit;
                        }
                        input.more();
                    }
                    Ok(Err(_)) | Err(_) => break Exit::TerminalGone,
                },
                recv(arrived) -> _ => self.pacer.frames_arrived(),
                recv(pictures) -> done => if let Ok(done) = done {
                    self.pictures_done(done);
                },
                default(wait) => {}
            }
            self.tick(Instant::now())?;
        };
        // A signal cancels the input thread too, which closes its channel: the signal is
        // set before that, so an input that ended for it reports the signal, not a hang-up.
        let exit = match (exit, signal()) {
            (Exit::TerminalGone, Some(sig)) => Exit::Signal(sig),
            (exit, _) => exit,
        };
        let mut clear = std::mem::take(&mut self.pending_pictures);
        self.pictures.clear(&mut clear, WRITER_GRACE);
        if !clear.is_empty() {
            self.writer.send(clear);
        }
        self.writer.finish(WRITER_GRACE);
        Ok(exit)
    }

    /// Applies one terminal event; true when it asks to quit.
    fn handle(&mut self, event: ct::Event) -> std::io::Result<bool> {
        let actions = match event {
            ct::Event::Key(key) => self.state.update(Event::Key(key)),
            ct::Event::Resize(w, h) => {
                self.terminal.resize(Rect::new(0, 0, w, h))?;
                self.pictures.invalidate();
                self.state.update(Event::Resize(w, h))
            }
            ct::Event::Mouse(m) if m.kind == ct::MouseEventKind::Down(ct::MouseButton::Left) => {
                let (w, h) = self.state.size;
                let screen = layout(&self.state, Rect::new(0, 0, w, h));
                let Areas::Map { canvas, .. } = screen.areas else {
                    return Ok(false);
                };
                match marker_at(&self.state, canvas, m.column, m.row) {
                    Some(feed) => self.state.update(Event::Pick(feed)),
                    None => return Ok(false),
                }
            }
            _ => return Ok(false),
        };
        self.pacer.draw_soon();
        for action in actions {
            match action {
                Action::Quit => return Ok(true),
                Action::SetPreset(i) => self.set.settings.set_preset(i),
                Action::Snapshot(key) => {
                    let settings = self.set.settings.get();
                    let stats = self.set.feeds().into_iter().find(|f| f.key == key);
                    let result = snapshot::save(
                        &self.state,
                        &key,
                        &mut self.jpeg,
                        &settings,
                        stats.as_ref().map(|f| &*f.stats),
                        &self.snapshot_dir,
                    );
                    self.state.update(Event::Snapshot(result));
                }
                Action::Time(m, about) => self.time(m, about.as_deref()),
                Action::Clip(key, span) => {
                    let at = self.state.paused_at;
                    let result = replay::clip(&self.set, &key, (at, span), &self.snapshot_dir);
                    self.state.update(Event::Clip(result));
                }
            }
        }
        Ok(false)
    }

    /// Moves the screen in time: every feed shows its frame at the instant the move lands
    /// on, and the history keeps what lies between it and the pause.
    fn time(&mut self, m: super::timeline::TimeMove, about: Option<&str>) {
        let now_ns = crate::clock::monotonic_ns();
        // Two capture intervals: every feed has copied what was published before that.
        let lag_ns = 2_000_000_000 / self.set.settings.get().fps().max(1) as u64;
        let clock = (now_ns, lag_ns);
        let at = replay::resolve(&self.set, self.state.paused_at, m, about, clock);
        if self.state.paused_at.is_none() {
            self.paused_since = now_ns;
        }
        if let Some(h) = self.set.history() {
            h.pin(at.map(|at| (at.min(self.paused_since), self.paused_since.max(at))));
        }
        let frames = replay::frames_at(&self.set, at);
        self.state.update(Event::Shown { at_ns: at, frames });
        self.refresh_timeline();
    }

    /// Hands the state what the timeline strip shows now.
    fn refresh_timeline(&mut self) {
        let about = self.state.time_target().map(|f| f.key().to_string());
        if let Some(t) = replay::timeline(&self.set, about.as_deref()) {
            self.state.update(Event::Timeline(t));
        }
    }

    /// Takes the picture thread's codes: written at once when the terminal is free, else
    /// with the next update; the encoding times count as scale.
    fn pictures_done(&mut self, done: super::graphics::worker::Done) {
        if self.pictures.finished() {
            self.pacer.draw_soon();
        }
        let feeds = self.set.feeds();
        for (key, t) in &done.times {
            if let Some(f) = feeds.iter().find(|f| &f.key == key) {
                f.stats.record(Stage::Scale, *t);
            }
        }
        self.pending_pictures.extend(done.bytes);
        self.flush_pictures(Instant::now());
    }

    /// Writes pending picture codes when the writer is free.
    fn flush_pictures(&mut self, now: Instant) {
        if !self.pending_pictures.is_empty() && !self.writer.report().busy {
            let update = synchronized(&std::mem::take(&mut self.pending_pictures));
            self.out_rate.add(now, update.len() as u64);
            self.writer.send(update);
        }
    }

    /// Refreshes figures and draws when they are due.
    fn tick(&mut self, now: Instant) -> std::io::Result<()> {
        self.flush_pictures(now);
        if self.pacer.refresh_due(now) {
            self.refresh(now);
        }
        let fps = self.set.settings.get().fps();
        if self
            .pacer
            .draw_due(now, fps, self.state.holding(), self.writer.report())
        {
            self.draw(now)?;
        }
        Ok(())
    }

    /// Hands the state fresh feed figures and the terminal's own.
    fn refresh(&mut self, now: Instant) {
        let feeds = self
            .set
            .feeds()
            .iter()
            .map(|f| FeedUpdate {
                name: f.name.clone(),
                key: f.key.clone(),
                state: f.status().state,
                stats: f.snapshot(),
                drawn_fps: self
                    .drawn
                    .get_mut(&f.key)
                    .map_or(0.0, |r| r.per_second(now, Duration::from_secs(2))),
            })
            .collect();
        let now_ns = crate::clock::monotonic_ns();
        self.state.update(Event::Feeds { feeds, now_ns });
        self.refresh_timeline();
        let fps = self.set.settings.get().fps();
        self.state.update(Event::Draw(DrawFigures {
            out_bytes_per_s: self.out_rate.per_second(now, Duration::from_secs(1)),
            target_fps: self.pacer.target_fps(fps),
            adapted: self.pacer.adapted(),
            skipped_busy: self.pacer.skipped_busy(),
            protocol: self.pictures.protocol_name(),
        }));
    }

    /// Tells every feed whether it is on screen and what rate the terminal keeps up with:
    /// remote feeds on other pages (or behind the zoomed env) get no frames sent, the others
    /// no more than the terminal draws.
    fn tell_shown(&self, screen: &crate::tui::panels::Screen) {
        let vis = self.state.visible();
        let on_screen: Vec<&str> = match &screen.areas {
            Areas::Single { feed, .. } => vec![self.state.feeds[*feed].key()],
            Areas::Grid { tiles, .. } => tiles
                .iter()
                .map(|&(i, _)| self.state.feeds[vis[i]].key())
                .collect(),
            // The map needs every env's info.
            Areas::Map { .. } => self.state.feeds.iter().map(|f| f.key()).collect(),
            // Nothing laid out (too small, no feeds): nothing to hide.
            Areas::Empty => return,
        };
        // A terminal that keeps up with fewer frames than the preset asks for fewer.
        let cap = if self.pacer.adapted() {
            self.pacer.target_fps(self.set.settings.get().fps()).ceil() as u32
        } else {
            u32::MAX
        };
        for feed in self.set.feeds() {
            feed.set_shown(on_screen.contains(&feed.key.as_str()));
            feed.set_rate_cap(cap);
        }
    }

    /// Takes the newest frame of every feed (older ones count as dropped), draws the
    /// screen and sends it to the writer.
    fn draw(&mut self, now: Instant) -> std::io::Result<()> {
        let feeds = self.set.feeds();
        let fresh: Vec<(String, SharedFrame)> = if self.state.holding() {
            Vec::new()
        } else {
            feeds
                .iter()
                .filter_map(|f| f.queue.pop_newest().map(|frame| (f.key.clone(), frame)))
                .collect()
        };
        let now_ns = crate::clock::monotonic_ns();
        self.state.update(Event::Frames {
            frames: fresh.clone(),
            now_ns,
        });
        if self.state.map.shown && !self.state.frozen {
            let snapshot = match self.state.paused_at {
                Some(at) => self.set.positions.snapshot_at(at, now),
                None => self.set.positions.snapshot(now),
            };
            self.state.update(Event::Map(snapshot));
        }
        let t0 = Instant::now();
        let scale = self.set.settings.get().scale();
        let (w, h) = self.state.size;
        let screen = layout(&self.state, Rect::new(0, 0, w, h));
        self.tell_shown(&screen);
        if self.pictures.layout_changed(&screen, self.state.help) {
            // Cells that held a picture must be written again by ratatui and the renderers:
            // resize() forgets the back buffer like clear(), without its cursor query.
            self.terminal.resize(Rect::new(0, 0, w, h))?;
        }
        let (state, pictures) = (&self.state, &mut self.pictures);
        self.terminal.draw(|f| {
            f.render_widget(
                Panels {
                    state,
                    screen: &screen,
                },
                f.area(),
            );
            pictures.draw_graphics(f, state, &screen, scale);
        })?;
        let mut bytes = self.out.take();
        let want_mouse = self.mouse && matches!(screen.areas, Areas::Map { .. });
        if want_mouse != self.mouse_on {
            self.mouse_on = want_mouse;
            bytes.extend_from_slice(if want_mouse { MOUSE_ON } else { MOUSE_OFF });
        }
        // Picture codes still pending go after the panels (a screen cleared by resize()
        // above then gets them again from the next picture job, which is sent in full).
        bytes.append(&mut self.pending_pictures);
        let resampled = pictures.draw_pictures(state, &screen, scale, &mut bytes);
        // Resampling or encoding a picture counts as scale, the rest of the screen as draw.
        let resampling: Duration = resampled.iter().map(|(_, t)| *t).sum();
        let draw_time = t0.elapsed().saturating_sub(resampling);
        for (key, frame) in &fresh {
            if let Some(f) = feeds.iter().find(|f| &f.key == key) {
                if let Some((_, t)) = resampled.iter().find(|(k, t)| k == key && !t.is_zero()) {
                    f.stats.record(Stage::Scale, *t);
                }
                f.stats.record(Stage::Draw, draw_time);
                f.stats.record_done(frame);
            }
            self.drawn.entry(key.clone()).or_default().add(now, 1);
        }
        if !bytes.is_empty() {
            let update = synchronized(&bytes);
            self.out_rate.add(now, update.len() as u64);
            self.writer.send(update);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{Script, Sink};
    use crate::pipeline::{FeedOptions, Settings, SharedSettings};
    use crate::source::{SourceOptions, SourceSpec};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn demo_set() -> FeedSet {
        FeedSet::start(
            vec![SourceSpec::Demo],
            SharedSettings::new(Settings::default()),
            FeedOptions {
                source: SourceOptions {
                    looping: true,
                    ..SourceOptions::default()
                },
                ..FeedOptions::default()
            },
        )
    }

    fn key(c: char) -> ct::Event {
        ct::Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
    }

    fn setup(dir: &std::path::Path) -> Setup {
        Setup {
            colors: ColorMode::Ansi256,
            graphics: Choice::halfblocks(),
            snapshot_dir: dir.to_path_buf(),
            source_hint: "demo".into(),
            size: (120, 40),
            label: None,
            stuck_after: Duration::from_secs(30),
            map: false,
            map_layout: None,
            map_image: None,
            mouse: true,
        }
    }

    #[test]
    fn draws_the_demo_then_quits_on_q() {
        let set = demo_set();
        let sink = Sink::default();
        let dir = std::env::temp_dir();
        let monitor = Monitor::new(
            set.clone(),
            setup(&dir),
            TerminalWriter::spawn(Box::new(sink.clone())),
        )
        .unwrap();
        let input = Input::spawn(
            Script::after(Duration::from_millis(1500), vec![key('q')]),
            &crate::cancel::Cancel::new(),
        );
        assert_eq!(monitor.run(&input, || None).unwrap(), Exit::Quit);
        let bytes = sink.bytes();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("\x1b[?2026h"), "no synchronized update");
        assert!(
            text.contains('▀') || text.contains('▄'),
            "no half-block picture"
        );
        let stats = set.feeds()[0].snapshot();
        assert!(
            stats.delivered >= 5,
            "only {} frames drawn",
            stats.delivered
        );
        set.stop();
    }

    #[test]
    fn a_signal_ends_it() {
        let set = demo_set();
        let monitor = Monitor::new(
            set.clone(),
            setup(&std::env::temp_dir()),
            TerminalWriter::spawn(Box::new(Sink::default())),
        )
        .unwrap();
        let input = Input::spawn(
            Script::after(Duration::from_secs(60), vec![]),
            &crate::cancel::Cancel::new(),
        );
        let start = Instant::now();
        let exit = monitor.run(&input, || {
            (start.elapsed() > Duration::from_millis(300)).then_some(15)
        });
        assert_eq!(exit.unwrap(), Exit::Signal(15));
        set.stop();
    }

    #[test]
    fn snapshot_key_saves_a_jpeg() {
        let set = demo_set();
        let dir = std::env::temp_dir().join(format!("gbwatch-snap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let monitor = Monitor::new(
            set.clone(),
            setup(&dir),
            TerminalWriter::spawn(Box::new(Sink::default())),
        )
        .unwrap();
        let input = Input::spawn(
            Script::after(Duration::from_millis(800), vec![key('s'), key('q')]),
            &crate::cancel::Cancel::new(),
        );
        assert_eq!(monitor.run(&input, || None).unwrap(), Exit::Quit);
        let saved: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(saved.len(), 1, "{saved:?}");
        assert!(saved[0].starts_with("gbwatch-demo-") && saved[0].ends_with(".jpg"));
        let jpeg = std::fs::read(dir.join(&saved[0])).unwrap();
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
        std::fs::remove_dir_all(&dir).unwrap();
        set.stop();
    }
}
