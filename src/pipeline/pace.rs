//! When a capture thread polls next: at the capture rate, and not before the publisher's
//! next frame is due (learnt from its frames' publish times and indexes), so a thread wakes
//! about once a frame instead of polling until the frame is there.

use std::time::{Duration, Instant};

/// One capture thread's schedule.
#[derive(Debug)]
pub(super) struct Pace {
    next_due: Instant,
    /// The newest frame's publish time (ns) and index.
    last: Option<(u64, u64)>,
    /// The publisher's time per frame (ns), smoothed.
    period_ns: Option<u64>,
}

impl Pace {
    /// A schedule whose first poll is due `now`.
    pub fn new(now: Instant) -> Pace {
        Pace {
            next_due: now,
            last: None,
            period_ns: None,
        }
    }

    /// When the next poll is due.
    pub fn due(&self) -> Instant {
        self.next_due
    }

    /// Forgets the publisher's timing (it restarted).
    pub fn restart(&mut self) {
        self.last = None;
        self.period_ns = None;
    }

    /// A frame arrived at `now` (`now_ns` on the publishers' clock): the next poll is one
    /// `interval` after this one was due (keeping the average rate, never in a burst to
    /// catch up), and not before the publisher's next frame.
    pub fn frame(
        &mut self,
        interval: Duration,
        published: Option<(u64, u64)>,
        now: Instant,
        now_ns: u64,
    ) {
        let mut next = (self.next_due + interval).max(now);
        if let Some((at_ns, index)) = published {
            self.learn(at_ns, index);
            if let Some(period) = self.period_ns {
                // A thirty-second of a period late, so a punctual frame is there; never
                // more than that after now, whatever the publisher's clock says.
                let late = period + period / 32;
                let wait = (at_ns + late).saturating_sub(now_ns).min(late);
                next = next.max(now + Duration::from_nanos(wait).min(MAX_WAIT));
            }
        }
        self.next_due = next;
    }

    fn learn(&mut self, at_ns: u64, index: u64) {
        if let Some((last_ns, last_index)) = self.last {
            if index > last_index && at_ns > last_ns {
                let sample = (at_ns - last_ns) / (index - last_index);
                self.period_ns = Some(match self.period_ns {
                    None => sample.min(MAX_WAIT.as_nanos() as u64),
                    // A pause or a burst moves the estimate a little, a new rate in a few
                    // frames.
                    Some(p) => (p * 7 + sample.clamp(p / 2, p * 2)) / 8,
                });
            }
        }
        self.last = Some((at_ns, index));
    }

    /// The gap before polling again after a poll that found nothing: a fraction of the
    /// interval, so a late frame is picked up with little delay, without spinning.
    pub fn nothing(&self, interval: Duration) -> Duration {
        (interval / 8).clamp(Duration::from_millis(1), Duration::from_millis(20))
    }
}

/// The longest a thread waits for a publisher's next frame before polling again.
const MAX_WAIT: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn a_publisher_at_the_capture_rate_is_polled_once_a_frame_just_after_it_publishes() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        let interval = Duration::from_millis(100);
        // Frames published every 100 ms, each seen 1 ms after it was published.
        for i in 0..5u64 {
            let now = t0 + Duration::from_millis(i * 100 + 1);
            pace.frame(interval, Some((i * 100 * MS, i)), now, (i * 100 + 1) * MS);
        }
        // The next frame is published at 500 ms: polled at 503 ms, not at 401 + 100 - 1.
        let due = pace.due().duration_since(t0).as_millis();
        assert!((502..=504).contains(&due), "due at {due} ms");
    }

    #[test]
    fn a_fast_publisher_is_polled_at_the_capture_rate() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        let interval = Duration::from_millis(100);
        for i in 0..5u64 {
            let now = t0 + Duration::from_millis(i * 100);
            // 300 frames/s: 30 frames between two polls.
            pace.frame(interval, Some((i * 100 * MS, i * 30)), now, i * 100 * MS);
        }
        assert_eq!(pace.due().duration_since(t0), Duration::from_millis(500));
    }

    #[test]
    fn a_pause_does_not_make_the_next_wait_long() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        let interval = Duration::from_millis(100);
        let mut at = 0;
        for i in 0..10u64 {
            // Frame 5 comes 10 s after frame 4.
            at += if i == 5 { 10_000 } else { 100 };
            let now = t0 + Duration::from_millis(at);
            pace.frame(interval, Some((at * MS, i)), now, at * MS);
        }
        let wait = pace.due().duration_since(t0 + Duration::from_millis(at));
        assert!(wait <= Duration::from_millis(150), "waits {wait:?}");
    }

    #[test]
    fn a_publisher_clock_far_ahead_delays_a_poll_by_one_period_at_most() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        let interval = Duration::from_millis(10);
        let hour = 3_600_000 * MS;
        for i in 0..5u64 {
            let now = t0 + Duration::from_millis(i * 100);
            pace.frame(interval, Some((hour + i * 100 * MS, i)), now, i * 100 * MS);
        }
        let wait = pace.due().duration_since(t0 + Duration::from_millis(400));
        assert!(wait <= Duration::from_millis(104), "waits {wait:?}");
    }

    #[test]
    fn frames_without_publish_times_keep_the_capture_rate() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        let interval = Duration::from_millis(100);
        pace.frame(interval, None, t0, 0);
        assert_eq!(pace.due(), t0 + interval);
    }
}
