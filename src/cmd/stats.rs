//! `gbwatch stats`: run the pipeline for a while and print its figures.

use super::{start_feeds, UsageError};
use crate::cli::StatsArgs;
use crate::encode::{Backend, JpegCache};
use crate::info::Info;
use crate::pipeline::{FeedSet, Percentiles, Settings, StatsSnapshot};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The JSON `stats --json` and `/api/streaming/stats` print: the original dashboard's field
/// names first, then gbwatch's own figures.
#[derive(Debug, Serialize)]
pub struct StatsReport {
    /// The feeds' common source kind (`shared-memory`, `http`, …), `mixed` or `none`.
    pub method: String,
    /// p50 capture latency of the first feed with frames, in ms (0 without one).
    pub capture_latency_ms: f64,
    /// p50 JPEG encode latency of that feed, in ms.
    pub compression_latency_ms: f64,
    /// p50 total latency of that feed, in ms.
    pub total_latency_ms: f64,
    /// Frames captured, summed over feeds.
    pub frames_captured: u64,
    /// Frames delivered to a consumer, summed over feeds.
    pub frames_streamed: u64,
    /// Dropped ÷ captured over all feeds, in percent.
    pub drop_rate_percent: f64,
    /// The capture rate in force (the preset's or `--fps`).
    pub target_fps: u32,
    /// The settings in force.
    pub quality_settings: QualitySettings,
    /// The active preset's name (overrides do not change it).
    pub preset: &'static str,
    /// The JPEG encoder in use.
    pub encoder: &'static str,
    /// Every feed, in discovery order.
    pub feeds: Vec<FeedReport>,
}

/// The original's `quality_settings` object: the settings in force.
#[derive(Debug, Serialize)]
pub struct QualitySettings {
    /// Integer upscale factor of the JPEGs (1-8).
    pub scale: u32,
    /// Capture rate in force, in frames per second.
    pub fps: u32,
    /// JPEG quality, 1-100.
    pub compression: u8,
}

/// One feed's entry in [`StatsReport::feeds`].
#[derive(Debug, Serialize)]
pub struct FeedReport {
    /// The feed's name.
    pub name: String,
    /// How the feed's frames arrive (`shared-memory`, `http`, …).
    pub method: &'static str,
    /// The feed's state in one line (`online`, `stale`, `offline: REASON`, `error: MESSAGE`).
    pub state: String,
    /// The feed's figures, flattened into the entry.
    #[serde(flatten)]
    pub stats: StatsSnapshot,
    /// Whether captured = delivered + dropped + queued in this snapshot.
    pub invariant_holds: bool,
    /// The info of the newest captured frame, fields in the publisher's order (`null`
    /// when that frame had none).
    pub info: Option<Arc<Info>>,
    /// The frame index that `info` came with.
    pub info_frame_index: Option<u64>,
}

impl StatsReport {
    /// Builds the report over all feeds; the original's top-level figures sum the feeds'
    /// counters and take the first online feed's latencies.
    pub fn build(set: &FeedSet, settings: Settings, encoder: Backend) -> StatsReport {
        let feeds: Vec<FeedReport> = set
            .feeds()
            .iter()
            .map(|f| {
                let stats = f.snapshot();
                let info = f.stats.latest_info();
                FeedReport {
                    info_frame_index: info.as_ref().map(|(i, _)| *i),
                    info: info.map(|(_, i)| i),
                    name: f.name.clone(),
                    method: f.kind.name(),
                    state: f.status().state.to_string(),
                    invariant_holds: stats.invariant_holds(),
                    stats,
                }
            })
            .collect();
        let lead = feeds
            .iter()
            .find(|f| f.stats.captured > 0)
            .map(|f| &f.stats);
        let ms = |p: Option<&Percentiles>| p.map_or(0.0, |p| p.p50_ms());
        let captured: u64 = feeds.iter().map(|f| f.stats.captured).sum();
        let dropped: u64 = feeds.iter().map(|f| f.stats.dropped).sum();
        StatsReport {
            method: method(set),
            capture_latency_ms: ms(lead.map(|s| &s.capture)),
            compression_latency_ms: ms(lead.map(|s| &s.encode)),
            total_latency_ms: ms(lead.map(|s| &s.total)),
            frames_captured: captured,
            frames_streamed: feeds.iter().map(|f| f.stats.delivered).sum(),
            drop_rate_percent: if captured == 0 {
                0.0
            } else {
                dropped as f64 * 100.0 / captured as f64
            },
            target_fps: settings.fps(),
            quality_settings: QualitySettings {
                scale: settings.scale(),
                fps: settings.fps(),
                compression: settings.quality(),
            },
            preset: settings.preset().name,
            encoder: encoder.name(),
            feeds,
        }
    }
}

/// The feeds' common source kind ("shared-memory", "http", ...), or "mixed".
fn method(set: &FeedSet) -> String {
    let mut kinds: Vec<&str> = set.feeds().iter().map(|f| f.kind.name()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    match kinds.as_slice() {
        [] => "none".into(),
        [one] => one.to_string(),
        _ => "mixed".into(),
    }
}

/// Runs `gbwatch stats`: consumes every feed like a streaming client for `--duration` seconds
/// (or until a termination signal), then prints the figures as text or `--json`. Fails when
/// no source delivered a frame, with the reasons.
pub fn run(args: StatsArgs) -> anyhow::Result<()> {
    if !(args.duration.is_finite() && args.duration > 0.0) {
        return Err(UsageError(format!(
            "--duration {} must be a positive number of seconds",
            args.duration
        ))
        .into());
    }
    let wait = super::wait_limit(args.wait.wait)?;
    let signals = super::Signals::install()?;
    let mut started = start_feeds(&args.source, &args.preset)?;
    let set = started.set.clone();
    let backend = Backend::best();
    let mut caches: HashMap<String, JpegCache> = HashMap::new();
    let begin = Instant::now();
    let end = begin + Duration::from_secs_f64(args.duration);
    let mut interrupted = None;
    let mut gave_up = false;
    // Consume like a streaming client: every delivered frame is encoded at the preset.
    while Instant::now() < end {
        if let Some(signal) = signals.received() {
            interrupted = Some(signal);
            break;
        }
        let mut idle = true;
        for feed in set.feeds() {
            if let Some(frame) = feed.queue.pop() {
                idle = false;
                let s = set.settings.get();
                let cache = caches
                    .entry(feed.key.clone())
                    .or_insert_with(|| JpegCache::new(backend));
                cache.encode(&frame, s.scale(), s.quality(), Some(&feed.stats))?;
                feed.stats.record_done(&frame);
            }
        }
        if idle {
            started.log.update(&set);
            if wait.is_some_and(|w| begin.elapsed() >= w) && !any_frame(&set) {
                gave_up = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    set.cancel.cancel();
    let report = StatsReport::build(&set, set.settings.get(), backend);
    let reason = started.log.last_reason(&set, None);
    set.stop();
    let text = if args.json {
        format!("{}\n", serde_json::to_string_pretty(&report)?)
    } else {
        text_report(&report)
    };
    super::print_stdout(&text)?;
    if let Some(signal) = interrupted {
        return Err(super::Terminated(signal).into());
    }
    if report.frames_captured == 0 {
        let reasons: Vec<String> = report
            .feeds
            .iter()
            .map(|f| format!("{}: {}", f.name, f.state))
            .collect();
        let why = if reasons.is_empty() {
            reason
        } else {
            reasons.join("; ")
        };
        let within = if gave_up {
            wait.unwrap_or_default()
        } else {
            Duration::from_secs_f64(args.duration)
        };
        anyhow::bail!("no frame within {:.1}s: {why}", within.as_secs_f64());
    }
    Ok(())
}

fn any_frame(set: &FeedSet) -> bool {
    set.feeds().iter().any(|f| f.snapshot().captured > 0)
}

fn text_report(r: &StatsReport) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "preset {} (scale {}x, {} fps, quality {}), encoder {}",
        r.preset,
        r.quality_settings.scale,
        r.quality_settings.fps,
        r.quality_settings.compression,
        r.encoder
    );
    if r.feeds.is_empty() {
        let _ = writeln!(o, "no sources");
    }
    for f in &r.feeds {
        let s = &f.stats;
        let _ = writeln!(o, "\n{}  [{}]", f.name, f.state);
        let _ = writeln!(
            o,
            "  published {}  captured {}  missed {}  identical {}  delivered {}  dropped {}  queued {}  ({})",
            s.published.map_or("-".into(), |p| p.to_string()),
            s.captured,
            s.missed,
            s.identical,
            s.delivered,
            s.dropped,
            s.queued,
            if f.invariant_holds { "captured = delivered + dropped + queued" } else { "COUNTERS DISAGREE" }
        );
        let _ = writeln!(
            o,
            "  drop rate {:.2}%  captured {:.1} fps  source {:.1} fps  publisher cost {}",
            s.drop_rate_percent,
            s.captured_fps,
            s.source_fps,
            s.publisher_cost_us
                .map_or("-".into(), |c| format!("{c:.2} µs"))
        );
        let _ = writeln!(
            o,
            "  {:<8} {:>9} {:>9} {:>9} {:>9}",
            "µs", "p50", "p95", "p99", "samples"
        );
        for (name, p) in [
            ("capture", &s.capture),
            ("scale", &s.scale),
            ("encode", &s.encode),
            ("total", &s.total),
            (if s.age_from_publisher { "age" } else { "age*" }, &s.age),
        ] {
            let _ = writeln!(
                o,
                "  {:<8} {:>9} {:>9} {:>9} {:>9}",
                name, p.p50_us, p.p95_us, p.p99_us, p.count
            );
        }
        if !s.age_from_publisher {
            let _ = writeln!(
                o,
                "  * age measured from arrival (the source's clock is not ours)"
            );
        }
        if let (Some(info), Some(index)) = (&f.info, f.info_frame_index) {
            println!("  info (frame {index}): {}", info.line());
        }
    }
    o
}
