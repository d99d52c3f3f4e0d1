//! `--history`, `--history-size` and `--mark` turned into the history's options.

use super::UsageError;
use crate::cli::HistoryArgs;
use crate::pipeline::{History, HistoryOptions, MarkRule};
use std::time::Duration;

/// A duration: `12.5` or `12.5s` (seconds), `2m`, `1.5m`, `1m30s`.
pub(super) fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (minutes, seconds) = match t.split_once('m') {
        Some((m, rest)) => (m, rest.strip_suffix('s').unwrap_or(rest)),
        None => ("", t.strip_suffix('s').unwrap_or(t)),
    };
    let number = |s: &str| -> Option<f64> {
        let s = s.trim();
        if s.is_empty() {
            return Some(0.0);
        }
        let v: f64 = s.parse().ok()?;
        (v.is_finite() && v >= 0.0).then_some(v)
    };
    if minutes.trim().is_empty() && seconds.trim().is_empty() {
        return None;
    }
    let total = number(minutes)? * 60.0 + number(seconds)?;
    Duration::try_from_secs_f64(total).ok()
}

/// Bytes in `64MB`, `512KB`, `1GB`, `1000000` (KB, MB, GB count 1024s).
fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim().to_ascii_uppercase();
    let (number, unit) = [
        ("GB", 1u64 << 30),
        ("MB", 1 << 20),
        ("KB", 1 << 10),
        ("B", 1),
    ]
    .into_iter()
    .find_map(|(s, u)| t.strip_suffix(s).map(|n| (n.to_string(), u)))
    .unwrap_or((t.clone(), 1));
    let v: f64 = number.trim().parse().ok()?;
    (v.is_finite() && v > 0.0).then_some((v * unit as f64) as u64)
}

/// The history the flags ask for: `None` for `--history 0`.
pub fn history_from(
    args: &HistoryArgs,
    stuck_after: Duration,
) -> Result<Option<History>, UsageError> {
    let span = parse_duration(&args.history).ok_or_else(|| {
        UsageError(format!(
            "--history {:?}: expected a duration such as 60s or 2m (0: none)",
            args.history
        ))
    })?;
    if span.is_zero() {
        return Ok(None);
    }
    let bytes = parse_size(&args.history_size).ok_or_else(|| {
        UsageError(format!(
            "--history-size {:?}: expected a size such as 64MB or 1GB",
            args.history_size
        ))
    })?;
    let rules = args
        .mark
        .iter()
        .map(|m| m.parse::<MarkRule>().map_err(|e| UsageError(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(History::new(HistoryOptions {
        span,
        bytes,
        rules,
        stuck_after,
        ..HistoryOptions::default()
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("60s"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_duration("x"), None);
        assert_eq!(parse_duration("12.5"), Some(Duration::from_millis(12_500)));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5m"), Some(Duration::from_secs(90)));
        for bad in ["", "m", "s", "-1", "1m-5s", "1:30", "inf", "1e400"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
        assert_eq!(parse_size("64MB"), Some(64 << 20));
        assert_eq!(parse_size("1gb"), Some(1 << 30));
        assert_eq!(parse_size("0"), None);
    }
}
