//! Latency percentiles over a sliding window, built on HdrHistogram.

use hdrhistogram::Histogram;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Percentiles of one latency, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Percentiles {
    /// Samples in the window (0: the other fields are 0 too).
    pub count: u64,
    /// Median.
    pub p50_us: u64,
    /// 95th percentile.
    pub p95_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// Largest sample in the window.
    pub max_us: u64,
}

impl Percentiles {
    /// p50 in milliseconds, as the original's JSON reports latencies.
    pub fn p50_ms(&self) -> f64 {
        self.p50_us as f64 / 1000.0
    }
}

/// A histogram of microsecond values over the last `slices × slice` of time.
#[derive(Debug)]
pub struct WindowedHistogram {
    slice: Duration,
    slices: usize,
    ring: VecDeque<(Instant, Histogram<u32>)>,
    /// The sum of the closed slices (all but the newest) a window last took in: when the
    /// first of them started and how many there were. Slices close every `slice`, so most
    /// windows add one histogram to it instead of every slice.
    closed: Option<(Instant, usize, Histogram<u32>)>,
}

/// Values above one minute are recorded as one minute.
const MAX_US: u64 = 60_000_000;

/// Two significant figures (1% resolution) and 32-bit counts keep one slice near 10 KB,
/// so dozens of feeds with six stages each stay small.
fn new_histogram() -> Histogram<u32> {
    Histogram::new_with_bounds(1, MAX_US, 2).expect("valid histogram bounds")
}

impl WindowedHistogram {
    /// A window of `slices` slices of `slice` each (default: 5 × 2 s).
    pub fn new(slice: Duration, slices: usize) -> Self {
        WindowedHistogram {
            slice,
            slices: slices.max(1),
            ring: VecDeque::new(),
            closed: None,
        }
    }

    /// Records one value in microseconds (clamped into the histogram's range).
    pub fn record(&mut self, now: Instant, us: u64) {
        let fresh = self
            .ring
            .back()
            .is_none_or(|(start, _)| now.duration_since(*start) >= self.slice);
        if fresh {
            self.ring.push_back((now, new_histogram()));
        }
        self.expire(now);
        let (_, h) = self.ring.back_mut().expect("a slice exists");
        h.saturating_record(us.clamp(1, MAX_US));
    }

    fn expire(&mut self, now: Instant) {
        let window = self.slice * self.slices as u32;
        while self.ring.len() > 1
            && self
                .ring
                .front()
                .is_some_and(|(s, _)| now.duration_since(*s) > window)
        {
            self.ring.pop_front();
        }
    }

    /// Percentiles over the window ending `now`.
    pub fn percentiles(&mut self, now: Instant) -> Percentiles {
        let window = self.slice * self.slices as u32;
        let first = self
            .ring
            .partition_point(|(start, _)| now.duration_since(*start) > window);
        let n = self.ring.len();
        if first >= n {
            return Percentiles::default();
        }
        let open = &self.ring[n - 1].1;
        if first == n - 1 {
            // No closed slice: the open one is the window.
            return of(open);
        }
        let key = self.ring[first].0;
        let closed = self.ring.range(first..n - 1);
        let merged = match &mut self.closed {
            Some((start, count, h)) if *start == key && *count == closed.len() => h,
            slot => {
                let mut h = new_histogram();
                for (_, c) in closed.clone() {
                    let _ = h.add(c);
                }
                &mut slot.insert((key, closed.len(), h)).2
            }
        };
        let _ = merged.add(open);
        let p = of(merged);
        let _ = merged.subtract(open);
        p
    }
}

/// The percentiles of `h`.
fn of(h: &Histogram<u32>) -> Percentiles {
    if h.is_empty() {
        return Percentiles::default();
    }
    Percentiles {
        count: h.len(),
        p50_us: h.value_at_quantile(0.50),
        p95_us: h.value_at_quantile(0.95),
        p99_us: h.value_at_quantile(0.99),
        max_us: h.max(),
    }
}

impl Default for WindowedHistogram {
    fn default() -> Self {
        WindowedHistogram::new(Duration::from_secs(2), 5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_the_recorded_values() {
        let mut h = WindowedHistogram::default();
        let now = Instant::now();
        for v in 1..=1000 {
            h.record(now, v);
        }
        let p = h.percentiles(now);
        assert_eq!(p.count, 1000);
        assert!((495..=505).contains(&p.p50_us), "{p:?}");
        assert!((985..=995).contains(&p.p99_us), "{p:?}");
    }

    #[test]
    fn old_values_leave_the_window() {
        let mut h = WindowedHistogram::new(Duration::from_millis(100), 2);
        let t0 = Instant::now();
        h.record(t0, 5000);
        let later = t0 + Duration::from_millis(500);
        h.record(later, 10);
        let p = h.percentiles(later);
        assert_eq!((p.count, p.p50_us), (1, 10));
    }

    #[test]
    fn percentiles_stay_right_as_slices_close_and_leave() {
        // Values 1..: each query's window is checked against the values it should hold.
        let mut h = WindowedHistogram::new(Duration::from_millis(100), 3);
        let t0 = Instant::now();
        let mut recorded = Vec::new();
        for i in 0..200u64 {
            let at = t0 + Duration::from_millis(i * 7);
            h.record(at, i + 1);
            recorded.push((at, i + 1));
            let now = at + Duration::from_millis(i % 3 * 40);
            let p = h.percentiles(now);
            // The window starts with the oldest slice that started within 300 ms.
            let starts: Vec<Instant> = h.ring.iter().map(|(s, _)| *s).collect();
            let from = starts
                .iter()
                .find(|s| now.duration_since(**s) <= Duration::from_millis(300));
            let held: Vec<u64> = recorded
                .iter()
                .filter(|(t, _)| from.is_some_and(|f| t >= f))
                .map(|(_, v)| *v)
                .collect();
            assert_eq!(p.count, held.len() as u64, "query {i}");
            assert_eq!(
                p.max_us,
                held.iter().copied().max().unwrap_or(0),
                "query {i}"
            );
        }
    }
}
