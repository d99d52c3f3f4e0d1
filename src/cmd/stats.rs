//! `gbwatch stats`: run the pipeline for a while and print its figures.

use super::{start_feeds, Shutdown, UsageError};
use crate::cli::StatsArgs;
use crate::encode::{Backend, JpegCache};
use crate::pipeline::{FeedSet, StatsReport};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Runs `gbwatch stats`: consumes every feed like a streaming client for `--duration` seconds
/// (or until a termination signal), then prints the figures as text or `--json`. Fails when
/// no source delivered a frame, with the reasons.
pub fn run(args: StatsArgs, shutdown: &Shutdown) -> anyhow::Result<()> {
    if !(args.duration.is_finite() && args.duration > 0.0) {
        return Err(UsageError(format!(
            "--duration {} must be a positive number of seconds",
            args.duration
        ))
        .into());
    }
    let wait = super::wait_limit(args.wait.wait)?;
    let mut started = start_feeds(&args.source, &args.preset, shutdown)?;
    let set = started.set.clone();
    let backend = Backend::best();
    let mut caches: HashMap<String, JpegCache> = HashMap::new();
    let begin = Instant::now();
    let end = begin + Duration::from_secs_f64(args.duration);
    let mut interrupted = None;
    let mut gave_up = false;
    // Consume like a streaming client: every delivered frame is encoded at the preset.
    while Instant::now() < end {
        if let Some(signal) = shutdown.received() {
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
    let report = StatsReport::build(&set, set.settings.get(), backend.name());
    let reason = started.log.last_reason(&set, None);
    set.stop();
    let text = if args.json {
        format!("{}\n", serde_json::to_string_pretty(&report)?)
    } else {
        text_report(&report)
    };
    super::print_stdout(&text)?;
    if let Some(signal) = interrupted.or(shutdown.received()) {
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
            let _ = writeln!(o, "  info (frame {index}): {}", info.line());
        }
        if let Some(e) = &f.info_error {
            let _ = writeln!(o, "  {e}");
        }
        if let Some(p) = &f.position {
            let _ = writeln!(
                o,
                "  position {} {},{}  distinct positions {}",
                p.region, p.x, p.y, f.distinct_positions
            );
        }
    }
    if r.map.distinct_positions > 0 {
        let _ = writeln!(
            o,
            "\nmap: {} distinct positions, {} envs with a position",
            r.map.distinct_positions, r.map.envs_with_position
        );
    }
    o
}
