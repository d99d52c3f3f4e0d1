//! Timeline markers: where an episode ended, a picture stayed the same too long, the feed
//! went offline, or a rule the user gave (`--mark 'episode_return>100'`) became true.

use crate::info::Info;
use std::fmt;
use std::str::FromStr;

/// The field that counts episodes: a change marks an episode's end.
const EPISODE_FIELD: &str = "episode";

/// What a marker marks.
#[derive(Debug, Clone, PartialEq)]
pub enum MarkerKind {
    /// The episode counter changed: the previous episode ended.
    EpisodeEnd,
    /// The picture stopped changing (for the stuck threshold) at this frame.
    Stuck,
    /// The feed went offline (its publisher stopped or its box dropped).
    Offline,
    /// A `--mark` rule became true; the rule's text.
    Crossing(String),
}

impl MarkerKind {
    /// One character for the timeline strip.
    pub fn glyph(&self) -> char {
        match self {
            MarkerKind::EpisodeEnd => '|',
            MarkerKind::Stuck => 'S',
            MarkerKind::Offline => 'x',
            MarkerKind::Crossing(_) => '*',
        }
    }
}

/// One marker: when (the history's clock, ns) and what.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// When the frame it marks was made (the history's clock, [`crate::clock::monotonic_ns`]).
    pub at_ns: u64,
    /// What happened there.
    pub kind: MarkerKind,
}

/// How a rule compares.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Greater,
    Less,
    GreaterEq,
    LessEq,
    Equal,
}

/// A `--mark` rule: `FIELD>VALUE` (also `<`, `>=`, `<=`, `=`); it marks each frame where it
/// becomes true.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkRule {
    field: String,
    op: Op,
    value: f64,
    text: String,
}

/// A `--mark` rule that does not parse.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("mark rule {0:?}: expected FIELD>VALUE, FIELD<VALUE, >=, <= or = with a number")]
pub struct MarkRuleError(String);

impl FromStr for MarkRule {
    type Err = MarkRuleError;
    fn from_str(s: &str) -> Result<MarkRule, MarkRuleError> {
        let bad = || MarkRuleError(s.to_string());
        let at = s.find(['>', '<', '=']).ok_or_else(bad)?;
        let (field, rest) = s.split_at(at);
        let (op, value) = [
            (">=", Op::GreaterEq),
            ("<=", Op::LessEq),
            (">", Op::Greater),
            ("<", Op::Less),
            ("=", Op::Equal),
        ]
        .into_iter()
        .find_map(|(t, op)| rest.strip_prefix(t).map(|v| (op, v)))
        .ok_or_else(bad)?;
        let value: f64 = value.trim().parse().map_err(|_| bad())?;
        let field = field.trim();
        if field.is_empty() || !value.is_finite() {
            return Err(bad());
        }
        Ok(MarkRule {
            field: field.to_string(),
            op,
            value,
            text: s.trim().to_string(),
        })
    }
}

impl fmt::Display for MarkRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl MarkRule {
    /// Whether the rule holds for `info` (false without the field or for a text value).
    pub fn holds(&self, info: Option<&Info>) -> bool {
        let Some(v) = info
            .and_then(|i| i.get(&self.field))
            .and_then(|v| v.as_f64())
        else {
            return false;
        };
        match self.op {
            Op::Greater => v > self.value,
            Op::Less => v < self.value,
            Op::GreaterEq => v >= self.value,
            Op::LessEq => v <= self.value,
            Op::Equal => v == self.value,
        }
    }
}

/// Finds one feed's markers frame by frame.
#[derive(Debug, Default)]
pub(super) struct MarkerFinder {
    episode: Option<i64>,
    held: Vec<bool>,
    /// Since when (ns) the picture has not changed, and whether that was marked.
    unchanged_since: Option<(u64, bool)>,
    offline: bool,
}

impl MarkerFinder {
    /// The markers a new frame makes.
    pub(super) fn frame(
        &mut self,
        at_ns: u64,
        changed: bool,
        info: Option<&Info>,
        rules: &[MarkRule],
        stuck_after_ns: u64,
    ) -> Vec<Marker> {
        let mut out = Vec::new();
        let mut mark = |kind| out.push(Marker { at_ns, kind });
        self.offline = false;
        let episode = info
            .and_then(|i| i.get(EPISODE_FIELD))
            .and_then(|v| v.as_f64())
            .map(|v| v as i64);
        if let (Some(old), Some(new)) = (self.episode, episode) {
            if old != new {
                mark(MarkerKind::EpisodeEnd);
            }
        }
        if episode.is_some() {
            self.episode = episode;
        }
        self.held.resize(rules.len(), false);
        for (rule, held) in rules.iter().zip(self.held.iter_mut()) {
            let now = rule.holds(info);
            if now && !*held {
                mark(MarkerKind::Crossing(rule.text.clone()));
            }
            *held = now;
        }
        match (&mut self.unchanged_since, changed) {
            (Some((since, marked)), false) => {
                if !*marked && at_ns.saturating_sub(*since) >= stuck_after_ns {
                    *marked = true;
                    out.push(Marker {
                        at_ns: *since,
                        kind: MarkerKind::Stuck,
                    });
                }
            }
            _ => self.unchanged_since = Some((at_ns, false)),
        }
        out
    }

    /// The marker of the feed going offline, once per outage.
    pub(super) fn offline(&mut self, at_ns: u64) -> Option<Marker> {
        (!std::mem::replace(&mut self.offline, true)).then_some(Marker {
            at_ns,
            kind: MarkerKind::Offline,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::Scalar;

    fn info(ep: i64, ret: f64) -> Info {
        let mut i = Info::new();
        i.push("episode", Scalar::Int(ep)).unwrap();
        i.push("episode_return", Scalar::Float(ret)).unwrap();
        i
    }

    #[test]
    fn rules_parse_and_refuse() {
        let r: MarkRule = "episode_return>100".parse().unwrap();
        assert!(r.holds(Some(&info(0, 101.0))));
        assert!(!r.holds(Some(&info(0, 100.0))));
        assert!("x>=2".parse::<MarkRule>().unwrap().holds(Some(&{
            let mut i = Info::new();
            i.push("x", Scalar::Int(2)).unwrap();
            i
        })));
        for bad in ["", ">3", "x>", "x>abc", "x", "x>inf"] {
            assert!(bad.parse::<MarkRule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn episodes_crossings_stuck_and_offline_are_marked_once() {
        let rules = vec!["episode_return>100".parse().unwrap()];
        let mut f = MarkerFinder::default();
        let s = 1_000_000_000;
        let kinds = |m: Vec<Marker>| m.into_iter().map(|m| m.kind).collect::<Vec<_>>();
        assert!(f.frame(0, true, Some(&info(0, 50.0)), &rules, s).is_empty());
        let m = kinds(f.frame(1, true, Some(&info(0, 150.0)), &rules, s));
        assert_eq!(m, [MarkerKind::Crossing("episode_return>100".into())]);
        assert!(f
            .frame(2, true, Some(&info(0, 160.0)), &rules, s)
            .is_empty());
        let m = kinds(f.frame(3, true, Some(&info(1, 0.0)), &rules, s));
        assert_eq!(m, [MarkerKind::EpisodeEnd]);
        assert!(f.frame(4, false, Some(&info(1, 0.0)), &rules, s).is_empty());
        let m = f.frame(3 + s, false, Some(&info(1, 0.0)), &rules, s);
        assert_eq!(m[0].kind, MarkerKind::Stuck);
        assert_eq!(m[0].at_ns, 3, "stuck starts at the last change");
        assert!(f
            .frame(4 + s, false, Some(&info(1, 0.0)), &rules, s)
            .is_empty());
        assert!(f.offline(10).is_some());
        assert!(f.offline(11).is_none());
    }
}
