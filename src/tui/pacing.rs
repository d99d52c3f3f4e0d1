//! When the monitor draws: as frames arrive (at most one draw per [`DRAW_GAP`] of the draw
//! interval), on a refresh timer when nothing arrives, at once after a key or a resize; and
//! how fast, slowing down while the terminal is still taking the previous update and
//! speeding up again once writes are quick. A plain value driven by the caller's clock.

use std::time::{Duration, Instant};

/// How often feed figures are refreshed, and panels redrawn without new frames.
pub const REFRESH_EVERY: Duration = Duration::from_millis(250);
/// The shortest gap between two draws, as a share of the draw interval: frames captured at
/// the preset rate are drawn as they come, with room for jitter in their arrival.
pub const DRAW_GAP: f64 = 0.8;
/// The longest the loop sleeps without looking at signals and the writer.
pub const MAX_WAIT: Duration = Duration::from_millis(50);
/// Writes quicker than this share of the interval count as quick.
const QUICK_SHARE: u32 = 4;
/// How long writes must stay quick before the rate goes up a step.
const QUICK_FOR: Duration = Duration::from_secs(1);

/// What the terminal writer reports before a draw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterReport {
    /// The previous update is still being written.
    pub busy: bool,
    /// How long the last finished write took.
    pub last_write: Duration,
}

/// The draw schedule and the frame-rate adaptation to the link.
#[derive(Debug, Clone)]
pub struct Pacer {
    /// Draw rate adapted to the terminal; `None` while it keeps up with the preset.
    adapted_fps: Option<f64>,
    last_draw: Instant,
    next_refresh: Instant,
    frames_waiting: bool,
    draw_now: bool,
    quick_since: Option<Instant>,
    skipped_busy: u64,
}

impl Pacer {
    /// A schedule that draws and refreshes at once.
    pub fn new(now: Instant) -> Pacer {
        Pacer {
            adapted_fps: None,
            last_draw: now,
            next_refresh: now,
            frames_waiting: false,
            draw_now: true,
            quick_since: None,
            skipped_busy: 0,
        }
    }

    /// A feed queued a frame.
    pub fn frames_arrived(&mut self) {
        self.frames_waiting = true;
    }

    /// True when new frames wait for the next draw: more arrivals change nothing until then.
    pub fn frames_waiting(&self) -> bool {
        self.frames_waiting
    }

    /// Something on screen changed (a key, a resize): draw at the next look.
    pub fn draw_soon(&mut self) {
        self.draw_now = true;
    }

    /// The draw rate aimed at now: the preset's fps, lowered while the terminal is slow.
    pub fn target_fps(&self, preset_fps: u32) -> f64 {
        let preset = preset_fps.max(1) as f64;
        self.adapted_fps.map_or(preset, |a| a.min(preset))
    }

    /// True while the rate is lowered because the terminal could not keep up.
    pub fn adapted(&self) -> bool {
        self.adapted_fps.is_some()
    }

    /// Draws skipped because the terminal was still taking the previous update.
    pub fn skipped_busy(&self) -> u64 {
        self.skipped_busy
    }

    fn interval(&self, preset_fps: u32) -> Duration {
        Duration::from_secs_f64(1.0 / self.target_fps(preset_fps).max(1.0))
    }

    fn next_draw(&self, now: Instant, preset_fps: u32, frozen: bool) -> Instant {
        let interval = self.interval(preset_fps);
        if self.draw_now {
            now
        } else if self.frames_waiting && !frozen {
            self.last_draw + interval.mul_f64(DRAW_GAP)
        } else {
            self.last_draw + interval.max(REFRESH_EVERY)
        }
    }

    /// How long the loop may sleep before something is due (at most [`MAX_WAIT`]).
    pub fn wait(&self, now: Instant, preset_fps: u32, frozen: bool) -> Duration {
        self.next_draw(now, preset_fps, frozen)
            .min(self.next_refresh)
            .saturating_duration_since(now)
            .min(MAX_WAIT)
    }

    /// True when the feed figures are due; schedules the next refresh.
    pub fn refresh_due(&mut self, now: Instant) -> bool {
        if now < self.next_refresh {
            return false;
        }
        self.next_refresh = now + REFRESH_EVERY;
        true
    }

    /// True when a draw is due and the terminal can take it. A due draw the writer is still
    /// busy for is skipped and slows the rate; quick writes for a while speed it up again.
    pub fn draw_due(
        &mut self,
        now: Instant,
        preset_fps: u32,
        frozen: bool,
        writer: WriterReport,
    ) -> bool {
        if now < self.next_draw(now, preset_fps, frozen) {
            return false;
        }
        let interval = self.interval(preset_fps);
        self.last_draw = now;
        self.draw_now = false;
        if writer.busy {
            self.skipped_busy += 1;
            self.adapted_fps = Some((self.target_fps(preset_fps) * 0.75).max(1.0));
            self.quick_since = None;
            return false;
        }
        self.frames_waiting = false;
        if writer.last_write < interval / QUICK_SHARE {
            let since = *self.quick_since.get_or_insert(now);
            if let Some(a) = self.adapted_fps {
                if now.duration_since(since) > QUICK_FOR {
                    self.adapted_fps = Some(a * 1.25);
                    self.quick_since = Some(now);
                }
            }
        } else {
            self.quick_since = None;
        }
        if self
            .adapted_fps
            .is_some_and(|a| a >= preset_fps.max(1) as f64)
        {
            self.adapted_fps = None;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FPS: u32 = 10;
    const QUICK: WriterReport = WriterReport {
        busy: false,
        last_write: Duration::from_micros(100),
    };
    const BUSY: WriterReport = WriterReport {
        busy: true,
        last_write: Duration::ZERO,
    };

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn first_look_draws_and_refreshes() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        assert_eq!(p.wait(t0, FPS, false), Duration::ZERO);
        assert!(p.refresh_due(t0));
        assert!(!p.refresh_due(t0 + ms(249)));
        assert!(p.refresh_due(t0 + REFRESH_EVERY));
        assert!(p.draw_due(t0, FPS, false, QUICK));
    }

    #[test]
    fn arrivals_draw_after_the_minimum_gap() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        assert!(p.draw_due(t0, FPS, false, QUICK));
        p.frames_arrived();
        // 10 fps: 100 ms interval, a frame may be drawn 80 ms after the last draw.
        assert!(!p.draw_due(t0 + ms(79), FPS, false, QUICK));
        assert!(p.draw_due(t0 + ms(80), FPS, false, QUICK));
        // No new frame: the next draw waits for the refresh timer.
        assert!(!p.draw_due(t0 + ms(300), FPS, false, QUICK));
        assert!(p.draw_due(t0 + ms(330), FPS, false, QUICK));
    }

    #[test]
    fn frozen_ignores_arrivals() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        assert!(p.draw_due(t0, FPS, true, QUICK));
        p.frames_arrived();
        assert!(!p.draw_due(t0 + ms(80), FPS, true, QUICK));
        assert!(p.draw_due(t0 + REFRESH_EVERY, FPS, true, QUICK));
    }

    #[test]
    fn a_key_draws_at_once() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        assert!(p.draw_due(t0, FPS, false, QUICK));
        p.draw_soon();
        assert_eq!(p.wait(t0 + ms(1), FPS, false), Duration::ZERO);
        assert!(p.draw_due(t0 + ms(1), FPS, false, QUICK));
    }

    #[test]
    fn wait_is_bounded_and_follows_the_schedule() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        assert!(p.refresh_due(t0));
        assert!(p.draw_due(t0, FPS, false, QUICK));
        assert_eq!(p.wait(t0, FPS, false), MAX_WAIT);
        p.frames_arrived();
        assert_eq!(p.wait(t0 + ms(60), FPS, false), ms(20));
    }

    #[test]
    fn a_busy_writer_skips_and_slows_down() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        assert!(!p.draw_due(t0, FPS, false, BUSY));
        assert_eq!(p.skipped_busy(), 1);
        assert!(p.adapted());
        assert_eq!(p.target_fps(FPS), 7.5);
        p.frames_arrived();
        // The skipped draw still counts as the last one: the slower interval applies.
        let gap = Duration::from_secs_f64(DRAW_GAP / 7.5);
        assert!(!p.draw_due(t0 + gap - ms(1), FPS, false, BUSY));
        assert!(!p.draw_due(t0 + gap, FPS, false, BUSY));
        assert_eq!(p.skipped_busy(), 2);
        assert_eq!(p.target_fps(FPS), 7.5 * 0.75);
    }

    #[test]
    fn never_below_one_fps() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        let mut t = t0;
        for _ in 0..40 {
            p.draw_soon();
            p.draw_due(t, FPS, false, BUSY);
            t += ms(10);
        }
        assert_eq!(p.target_fps(FPS), 1.0);
    }

    #[test]
    fn quick_writes_speed_back_up_to_the_preset() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        for i in 0..3 {
            p.draw_soon();
            p.draw_due(t0 + ms(i), FPS, false, BUSY);
        }
        let slow = p.target_fps(FPS);
        assert!(slow < 5.0);
        let mut t = t0 + ms(10);
        let mut steps = vec![slow];
        while p.adapted() && t < t0 + Duration::from_secs(30) {
            p.draw_soon();
            p.draw_due(t, FPS, false, QUICK);
            if p.target_fps(FPS) != *steps.last().unwrap() {
                steps.push(p.target_fps(FPS));
            }
            t += ms(100);
        }
        assert!(!p.adapted(), "still adapted after 30 s of quick writes");
        assert_eq!(p.target_fps(FPS), FPS as f64);
        // Up by a quarter at most once per second of quick writes.
        assert!(steps.len() >= 3, "{steps:?}");
        assert!(t - t0 > Duration::from_secs(2));
    }

    #[test]
    fn slow_writes_do_not_speed_up() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        p.draw_due(t0, FPS, false, BUSY);
        let slow = WriterReport {
            busy: false,
            last_write: ms(60),
        };
        let mut t = t0;
        for _ in 0..50 {
            t += ms(200);
            p.draw_soon();
            assert!(p.draw_due(t, FPS, false, slow));
        }
        assert_eq!(p.target_fps(FPS), 7.5);
    }
}
