//! `gbwatch watch` (and `gbwatch` alone): wires a [`FeedSet`] to the terminal monitor.
//!
//! The draw loop pops the newest frame of each feed at the draw rate, lets ratatui draw the
//! panels into a memory buffer, appends the half-block picture, and hands the whole
//! synchronized update to a writer thread. When the terminal (SSH) is still taking the
//! previous update, the loop skips the draw (frames are dropped at the draw stage and
//! counted) and lowers its rate; capture threads never wait for it.

use super::{feed_options, settings_from, specs_from, UsageError};
use crate::cli::{ColorsArg, ProtocolArg, WatchArgs};
use crate::encode::{scale_rgba, Backend, JpegCache};
use crate::frame::SharedFrame;
use crate::pipeline::{FeedSet, SharedSettings, Stage};
use crate::source::SourceSpec;
use crate::tui::panels::layout;
use crate::tui::terminal::{SYNC_BEGIN, SYNC_END};
use crate::tui::{
    dimmed, Action, ColorMode, DrawFigures, Event, FeedUpdate, HalfblockRenderer, ImageSlot, State,
    TerminalGuard, View,
};
use crossbeam_channel::{bounded, Receiver, Sender};
use crossterm::event as ct;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use ratatui_image::picker::{Picker, ProtocolType};
use ratatui_image::protocol::Protocol;
use std::collections::{HashMap, VecDeque};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often feed figures are refreshed.
const REFRESH_EVERY: Duration = Duration::from_millis(250);
/// The shortest gap between two draws, as a share of the draw interval: frames captured at
/// the preset rate are drawn as they come, with room for jitter in their arrival.
const DRAW_GAP: f64 = 0.8;

/// One frame time at the draw rate: the preset's fps, lowered while the terminal is slow.
fn draw_interval(adapt_fps: f64, preset_fps: u32) -> Duration {
    Duration::from_secs_f64(1.0 / adapt_fps.min(preset_fps as f64).max(1.0))
}

/// Runs `gbwatch watch`: the sources' feeds drawn in this terminal until q, a signal or the
/// terminal going away.
pub fn run(args: WatchArgs) -> anyhow::Result<()> {
    let settings = settings_from(&args.preset)?;
    let specs = specs_from(&args.source)?;
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "watch draws in a terminal and standard output is not one \
             (for files and pipes: gbwatch dump, stats or serve)"
        );
    }
    std::fs::create_dir_all(&args.snapshot_dir).map_err(|e| {
        UsageError(format!(
            "snapshot directory {}: {e}",
            args.snapshot_dir.display()
        ))
    })?;
    let hint = specs
        .iter()
        .map(|s| match s {
            SourceSpec::SlotDir(p) | SourceSpec::SlotFile(p) => p.display().to_string(),
            #[allow(unreachable_patterns)]
            other => format!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let set = FeedSet::start(
        specs,
        SharedSettings::new(settings),
        feed_options(&args.source, &args.preset),
    );
    let result = (|| {
        let guard = TerminalGuard::enter()
            .map_err(|e| anyhow::anyhow!("cannot take over the terminal: {e}"))?;
        let picker = choose_protocol(args.protocol);
        let result = ui(&args, &set, &hint, picker, &guard);
        drop(guard);
        result
    })();
    set.stop();
    result
}

/// Picks a graphics protocol, or `None` for half-blocks. Runs after the alternate screen is
/// entered and before any input is read. Terminal multiplexers answer nothing useful, and an
/// unanswered query keeps a thread reading stdin: they get half-blocks without asking.
fn choose_protocol(arg: ProtocolArg) -> Option<Picker> {
    let forced = match arg {
        ProtocolArg::Halfblocks => return None,
        ProtocolArg::Auto => None,
        ProtocolArg::Sixel => Some(ProtocolType::Sixel),
        ProtocolArg::Kitty => Some(ProtocolType::Kitty),
        ProtocolArg::Iterm2 => Some(ProtocolType::Iterm2),
    };
    let term = std::env::var("TERM").unwrap_or_default();
    let multiplexed = std::env::var_os("TMUX").is_some()
        || term.starts_with("screen")
        || term.starts_with("tmux");
    let dumb = term.is_empty() || term == "dumb" || term == "linux";
    if forced.is_none() && (multiplexed || dumb) {
        return None;
    }
    let mut picker = if multiplexed || dumb {
        Picker::halfblocks()
    } else {
        let options = ratatui_image::picker::cap_parser::QueryStdioOptions {
            timeout: Duration::from_millis(500),
            // Deflated kitty transmissions when the terminal can inflate them: pixel art
            // shrinks many times over, which is what counts over SSH.
            kitty_compression: true,
            ..Default::default()
        };
        Picker::from_query_stdio_with_options(options).unwrap_or_else(|_| Picker::halfblocks())
    };
    match forced {
        Some(p) => picker.set_protocol_type(p),
        None if picker.protocol_type() == ProtocolType::Halfblocks => return None,
        None => {}
    }
    Some(picker)
}

/// Reads terminal input on its own thread, so a terminal that hangs up (where crossterm's
/// poll can spin without returning) never stalls drawing, signals or shutdown.
fn spawn_input_reader() -> Receiver<std::io::Result<ct::Event>> {
    let (tx, rx) = bounded(64);
    std::thread::Builder::new()
        .name("terminal input".into())
        .spawn(move || loop {
            let event = match ct::poll(Duration::from_millis(200)) {
                Ok(true) => ct::read(),
                Ok(false) => continue,
                Err(e) => Err(e),
            };
            let failed = event.is_err();
            if tx.send(event).is_err() || failed {
                return;
            }
        })
        .expect("spawn terminal input reader");
    rx
}

/// Writes finished updates to the terminal on its own thread, so a slow terminal stalls
/// only this thread.
struct Writer {
    tx: Option<Sender<Vec<u8>>>,
    busy: Arc<AtomicBool>,
    /// Set when the terminal refused a write (it is gone: SSH dropped, pane closed).
    failed: Arc<AtomicBool>,
    last_write_us: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    fn spawn() -> Writer {
        let (tx, rx) = bounded::<Vec<u8>>(1);
        let busy = Arc::new(AtomicBool::new(false));
        let failed = Arc::new(AtomicBool::new(false));
        let last_write_us = Arc::new(AtomicU64::new(0));
        let (b, l, f) = (busy.clone(), last_write_us.clone(), failed.clone());
        let thread = std::thread::Builder::new()
            .name("terminal writer".into())
            .spawn(move || {
                for bytes in rx {
                    let t = Instant::now();
                    let mut out = std::io::stdout().lock();
                    if out.write_all(&bytes).and_then(|_| out.flush()).is_err() {
                        f.store(true, Ordering::Release);
                    }
                    drop(out);
                    l.store(t.elapsed().as_micros() as u64, Ordering::Relaxed);
                    b.store(false, Ordering::Release);
                }
            })
            .expect("spawn terminal writer");
        Writer {
            tx: Some(tx),
            busy,
            failed,
            last_write_us,
            thread: Some(thread),
        }
    }

    fn busy(&self) -> bool {
        self.busy.load(Ordering::Acquire)
    }

    fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    fn send(&self, bytes: Vec<u8>) {
        self.busy.store(true, Ordering::Release);
        if let Some(tx) = &self.tx {
            let _ = tx.send(bytes);
        }
    }

    fn finish(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Events per second over a sliding window.
#[derive(Default)]
struct Rate {
    events: VecDeque<(Instant, u64)>,
}

impl Rate {
    fn add(&mut self, now: Instant, amount: u64) {
        self.events.push_back((now, amount));
    }

    fn per_second(&mut self, now: Instant, window: Duration) -> f64 {
        while self
            .events
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > window)
        {
            self.events.pop_front();
        }
        self.events.iter().map(|(_, a)| *a).sum::<u64>() as f64 / window.as_secs_f64()
    }
}

/// The backend's output, kept in memory so one synchronized update goes out in one write.
#[derive(Clone, Default)]
struct SharedBuf(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A graphics-protocol picture, rebuilt only when the frame or its area changes.
struct GraphicsImage {
    key: (u64, Rect, u32, bool),
    protocol: Protocol,
}

fn ui(
    args: &WatchArgs,
    set: &FeedSet,
    hint: &str,
    picker: Option<Picker>,
    guard: &TerminalGuard,
) -> anyhow::Result<()> {
    let mode = match args.colors {
        ColorsArg::Ansi256 => ColorMode::Ansi256,
        ColorsArg::Truecolor => ColorMode::TrueColor,
    };
    let protocol_name = match &picker {
        Some(p) => format!("{:?}", p.protocol_type()).to_lowercase(),
        None => format!("half-blocks {}", mode.name()),
    };
    let out = SharedBuf::default();
    let mut terminal = Terminal::new(CrosstermBackend::new(out.clone()))?;
    let mut state = State::new(set.settings.get().preset, hint);
    let size = terminal.size()?;
    state.update(Event::Resize(size.width, size.height));
    let mut writer = Writer::spawn();
    let mut renderers: HashMap<String, HalfblockRenderer> = HashMap::new();
    let mut graphics: Option<GraphicsImage> = None;
    let mut last_slots: Vec<ImageSlot> = Vec::new();
    let mut last_help = false;
    let mut drawn: HashMap<String, Rate> = HashMap::new();
    let mut out_rate = Rate::default();
    let mut jpeg = JpegCache::new(Backend::best());
    let mut fresh: Vec<(String, SharedFrame)> = Vec::new();
    let mut resampled: Vec<(String, Duration)> = Vec::new();
    let mut adapt_fps = f64::MAX;
    let mut skipped_busy = 0u64;
    let mut quick_since: Option<Instant> = None;
    // Draws follow frame arrivals (so a frame is drawn as soon as it is captured), at most
    // one per DRAW_GAP of the draw interval; without frames, panels redraw every
    // REFRESH_EVERY. Keys and resizes draw at once.
    let arrivals = set.arrivals();
    let mut frames_waiting = false;
    let mut draw_now = true;
    let mut last_draw = Instant::now();
    let mut next_refresh = Instant::now();
    let input = spawn_input_reader();
    let result = loop {
        if let Some(signal) = guard.signal() {
            break Err(super::Terminated(signal).into());
        }
        if state.quit || writer.failed() {
            break Ok(());
        }
        let now = Instant::now();
        let interval = draw_interval(adapt_fps, set.settings.get().fps());
        let next_draw = if draw_now {
            now
        } else if frames_waiting && !state.frozen {
            last_draw + interval.mul_f64(DRAW_GAP)
        } else {
            last_draw + interval.max(REFRESH_EVERY)
        };
        let wait = next_draw
            .min(next_refresh)
            .saturating_duration_since(now)
            .min(Duration::from_millis(50));
        let event = crossbeam_channel::select! {
            recv(input) -> event => match event {
                Ok(Ok(event)) => Some(event),
                // The terminal is gone or unreadable: nothing more to show.
                Ok(Err(_)) | Err(_) => break Ok(()),
            },
            recv(arrivals) -> _ => {
                frames_waiting = true;
                continue;
            }
            default(wait) => None,
        };
        if let Some(event) = event {
            match event {
                ct::Event::Key(key) => {
                    for action in state.update(Event::Key(key)) {
                        match action {
                            Action::Quit => {}
                            Action::SetPreset(i) => set.settings.set_preset(i),
                            Action::Snapshot(key) => {
                                let r = snapshot(&state, &key, &mut jpeg, set, &args.snapshot_dir);
                                state.update(Event::Snapshot(r));
                            }
                        }
                    }
                    draw_now = true;
                }
                ct::Event::Resize(w, h) => {
                    state.update(Event::Resize(w, h));
                    renderers.values_mut().for_each(|r| r.invalidate());
                    graphics = None;
                    draw_now = true;
                }
                _ => {}
            }
            continue;
        }
        let now = Instant::now();
        let settings = set.settings.get();
        if now >= next_refresh {
            next_refresh = now + REFRESH_EVERY;
            let feeds = set
                .feeds()
                .iter()
                .map(|f| FeedUpdate {
                    name: f.name.clone(),
                    key: f.key.clone(),
                    state: f.status().state,
                    stats: f.snapshot(),
                    frame: None,
                    drawn_fps: drawn
                        .get_mut(&f.key)
                        .map_or(0.0, |r| r.per_second(now, Duration::from_secs(2))),
                })
                .collect();
            state.update(Event::Feeds {
                feeds,
                now_ns: crate::clock::monotonic_ns(),
            });
            let preset_fps = settings.fps() as f64;
            state.update(Event::Draw(DrawFigures {
                out_bytes_per_s: out_rate.per_second(now, Duration::from_secs(1)),
                target_fps: adapt_fps.min(preset_fps),
                adapted: adapt_fps < preset_fps,
                skipped_busy,
                protocol: protocol_name.clone(),
            }));
        }
        if now < next_draw {
            continue;
        }
        let preset_fps = settings.fps() as f64;
        let target = 1.0 / interval.as_secs_f64();
        last_draw = now;
        draw_now = false;
        if writer.busy() {
            // The terminal has not taken the last update: drop this draw, slow down.
            skipped_busy += 1;
            adapt_fps = (target * 0.75).max(1.0);
            quick_since = None;
            continue;
        }
        let last_write = Duration::from_micros(writer.last_write_us.load(Ordering::Relaxed));
        if last_write < interval / 4 {
            let since = *quick_since.get_or_insert(now);
            if adapt_fps < preset_fps && now.duration_since(since) > Duration::from_secs(1) {
                adapt_fps = (adapt_fps * 1.25).min(preset_fps * 2.0);
                quick_since = Some(now);
            }
        } else {
            quick_since = None;
        }
        if adapt_fps >= preset_fps {
            adapt_fps = f64::MAX;
        }

        // Newest frame of every feed; the older ones count as dropped.
        let feeds = set.feeds();
        fresh.clear();
        frames_waiting = false;
        if !state.frozen {
            for f in &feeds {
                if let Some(frame) = f.queue.pop_newest() {
                    fresh.push((f.key.clone(), frame));
                }
            }
        }
        state.update(Event::Frames(fresh.clone()));
        state.now_ns = crate::clock::monotonic_ns();

        let t0 = Instant::now();
        let area = terminal.size()?;
        let area = Rect::new(0, 0, area.width, area.height);
        let screen = layout(&state, area);
        let use_graphics = picker.is_some() && matches!(state.view(), View::Single(_));
        if screen.images != last_slots || state.help != last_help {
            // Cells that held a picture must be written again by ratatui and by the renderers.
            // resize() clears and forgets the back buffer like clear(), without clear()'s
            // cursor position query: a round trip to the terminal (over SSH) on every
            // layout change, and a 2 s stall on a terminal that never answers.
            terminal.resize(area)?;
            renderers.values_mut().for_each(|r| r.invalidate());
            graphics = None;
            last_slots = screen.images.clone();
            last_help = state.help;
        }
        terminal.draw(|f| {
            f.render_widget(&state, f.area());
            if let (true, Some(picker), Some(slot)) =
                (use_graphics && !state.help, &picker, screen.images.first())
            {
                if let Some(frame) = &state.feeds[slot.feed].frame {
                    let key = (frame.content_id, slot.rect, settings.scale(), slot.dim);
                    if graphics.as_ref().is_none_or(|g| g.key != key) {
                        graphics =
                            graphics_image(picker, frame, slot.rect, settings.scale(), slot.dim)
                                .map(|protocol| GraphicsImage { key, protocol });
                    }
                    if let Some(g) = &graphics {
                        let buf = f.buffer_mut();
                        for y in slot.rect.top()..slot.rect.bottom() {
                            for x in slot.rect.left()..slot.rect.right() {
                                if let Some(c) = buf.cell_mut((x, y)) {
                                    c.reset();
                                }
                            }
                        }
                        f.render_widget(ratatui_image::Image::new(&g.protocol), slot.rect);
                    }
                }
            }
        })?;
        let mut bytes = std::mem::take(&mut *out.0.borrow_mut());
        resampled.clear();
        if !state.help && !use_graphics {
            for slot in &screen.images {
                let feed = &state.feeds[slot.feed];
                let Some(frame) = &feed.frame else { continue };
                let r = renderers
                    .entry(feed.key.clone())
                    .or_insert_with(|| HalfblockRenderer::new(mode));
                r.render(
                    &frame.pixels,
                    frame.width,
                    frame.height,
                    frame.content_id,
                    slot.rect,
                    settings.scale(),
                    slot.dim,
                    &mut bytes,
                );
                resampled.push((feed.key.clone(), r.last_resample_time()));
            }
        }
        // Resampling to the cell grid counts as scale, the rest of the screen as draw.
        let all_resampling = resampled.iter().map(|(_, t)| *t).sum::<Duration>();
        let draw_time = t0.elapsed().saturating_sub(all_resampling);
        for (key, frame) in &fresh {
            if let Some(f) = feeds.iter().find(|f| &f.key == key) {
                if let Some((_, t)) = resampled.iter().find(|(k, t)| k == key && !t.is_zero()) {
                    f.stats.record(Stage::Scale, *t);
                }
                f.stats.record(Stage::Draw, draw_time);
                f.stats.record_done(frame);
            }
            drawn.entry(key.clone()).or_default().add(now, 1);
        }
        if !bytes.is_empty() {
            let mut update = Vec::with_capacity(bytes.len() + 16);
            update.extend_from_slice(SYNC_BEGIN);
            update.extend_from_slice(&bytes);
            update.extend_from_slice(SYNC_END);
            out_rate.add(now, update.len() as u64);
            writer.send(update);
        }
    };
    writer.finish();
    result
}

fn graphics_image(
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

/// Saves the shown frame of feed `key` as a JPEG at the preset's scale and quality.
fn snapshot(
    state: &State,
    key: &str,
    jpeg: &mut JpegCache,
    set: &FeedSet,
    dir: &Path,
) -> Result<String, String> {
    let feed = state
        .feeds
        .iter()
        .find(|f| f.key == key)
        .ok_or("feed is gone")?;
    let frame = feed.frame.as_ref().ok_or("no frame yet")?;
    let s = set.settings.get();
    let stats = set
        .feeds()
        .into_iter()
        .find(|f| f.key == key)
        .map(|f| f.stats.clone());
    let enc = jpeg
        .encode(frame, s.scale(), s.quality(), stats.as_deref())
        .map_err(|e| e.to_string())?;
    let safe: String = feed
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path: PathBuf = dir.join(format!("gbwatch-{safe}-{:08}.jpg", frame.frame_index));
    std::fs::write(&path, enc.jpeg.as_slice()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path.display().to_string())
}
