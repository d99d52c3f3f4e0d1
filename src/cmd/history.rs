//! `--history`, `--history-size` and `--mark` turned into the history's options.

use super::UsageError;
use crate::cli::HistoryArgs;
use crate::pipeline::{History, HistoryOptions, MarkRule};
use std::time::Duration;

/// Seconds in `60s`, `2m`, `90` (seconds), `1.5m`.
fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (number, unit) = match t.strip_suffix('m') {
        Some(n) => (n, 60.0),
        None => (t.strip_suffix('s').unwrap_or(t), 1.0),
    };
    let v: f64 = number.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| Duration::from_secs_f64(v * unit))
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
        assert_eq!(parse_size("64MB"), Some(64 << 20));
        assert_eq!(parse_size("1gb"), Some(1 << 30));
        assert_eq!(parse_size("0"), None);
    }
}
