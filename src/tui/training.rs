//! What the monitor keeps of each env's training info: when its picture and its label field
//! last changed (for stuck detection), and its return at the end of recent episodes.

use crate::frame::Frame;
use crate::info::Scalar;
use std::collections::VecDeque;

/// The field whose value at each episode's end the sparkline shows.
pub const RETURN_FIELD: &str = "episode_return";
/// The field that counts episodes.
pub const EPISODE_FIELD: &str = "episode";
/// How many episode returns are kept per env.
pub const RETURNS_KEPT: usize = 120;

/// One env's training, as seen in the frames drawn so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Training {
    /// The content id of the newest frame, and since when (monotonic ns) it has not changed.
    picture: Option<(u64, u64)>,
    /// The label field's newest value, and since when it has not changed.
    field: Option<(Scalar, u64)>,
    /// The episode and return of the newest frame.
    episode: Option<(i64, f64)>,
    /// Returns of finished episodes, oldest first.
    pub returns: VecDeque<f64>,
}

impl Training {
    /// Takes in a frame drawn at `now_ns`, with `label` the field tiles show.
    pub fn observe(&mut self, frame: &Frame, label: Option<&str>, now_ns: u64) {
        if self.picture.is_none_or(|(id, _)| id != frame.content_id) {
            self.picture = Some((frame.content_id, now_ns));
        }
        let info = frame.info.as_deref();
        let value = label.and_then(|l| info.and_then(|i| i.get(l)));
        match (value, &self.field) {
            (Some(v), Some((old, _))) if v == old => {}
            (Some(v), _) => self.field = Some((v.clone(), now_ns)),
            (None, _) => self.field = None,
        }
        let episode = info.and_then(|i| match (i.get(EPISODE_FIELD), i.get(RETURN_FIELD)) {
            (Some(Scalar::Int(e)), Some(r)) => r.as_f64().map(|r| (*e, r)),
            _ => None,
        });
        if let (Some((old_ep, old_ret)), Some((ep, _))) = (self.episode, episode) {
            if ep > old_ep {
                self.returns.push_back(old_ret);
                while self.returns.len() > RETURNS_KEPT {
                    self.returns.pop_front();
                }
            }
        }
        if episode.is_some() {
            self.episode = episode;
        }
    }

    /// Forgets the label field's history (the label changed).
    pub fn relabel(&mut self) {
        self.field = None;
    }

    /// How long the env has looked stuck at `now_ns`: the picture unchanged, or the label
    /// field unchanged, for at least `after_ns`. The longer of the two.
    pub fn stuck_for(&self, now_ns: u64, after_ns: u64) -> Option<u64> {
        let picture = self.picture.map(|(_, since)| now_ns.saturating_sub(since));
        let field = self
            .field
            .as_ref()
            .map(|(_, since)| now_ns.saturating_sub(*since));
        picture.max(field).filter(|&d| d >= after_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::raw_frame;
    use crate::info::Info;
    use std::sync::Arc;

    const S: u64 = 1_000_000_000;

    fn frame(content: u64, fields: &[(&str, Scalar)]) -> Frame {
        let mut f = raw_frame(2, 2, None);
        f.content_id = content;
        let mut info = Info::new();
        for (k, v) in fields {
            info.push(*k, v.clone()).unwrap();
        }
        f.info = Some(Arc::new(info));
        f
    }

    #[test]
    fn a_still_picture_is_stuck_after_the_limit_and_not_once_it_moves() {
        let mut t = Training::default();
        t.observe(&frame(1, &[]), None, 0);
        t.observe(&frame(1, &[]), None, 20 * S);
        assert_eq!(t.stuck_for(29 * S, 30 * S), None);
        assert_eq!(t.stuck_for(31 * S, 30 * S), Some(31 * S));
        t.observe(&frame(2, &[]), None, 31 * S);
        assert_eq!(t.stuck_for(32 * S, 30 * S), None);
    }

    #[test]
    fn a_label_field_that_stops_changing_is_stuck_too() {
        let mut t = Training::default();
        for s in 0..40 {
            let ret = Scalar::Float(if s < 5 { s as f64 } else { 5.0 });
            t.observe(&frame(s + 1, &[("ret", ret)]), Some("ret"), s * S);
        }
        // The picture moves every second; the return has been 5.0 since second 5.
        assert_eq!(t.stuck_for(39 * S, 30 * S), Some(34 * S));
        assert_eq!(t.stuck_for(34 * S, 30 * S), None);
        t.relabel();
        t.observe(&frame(99, &[("ret", Scalar::Float(5.0))]), None, 40 * S);
        assert_eq!(t.stuck_for(41 * S, 30 * S), None);
    }

    #[test]
    fn returns_are_kept_at_each_episode_end() {
        let mut t = Training::default();
        let step = |ep: i64, ret: f64| {
            frame(
                1,
                &[
                    (EPISODE_FIELD, Scalar::Int(ep)),
                    (RETURN_FIELD, Scalar::Float(ret)),
                ],
            )
        };
        for (ep, ret) in [(0, 1.0), (0, 2.5), (1, 0.5), (1, 4.0), (3, 1.0)] {
            t.observe(&step(ep, ret), None, 0);
        }
        assert_eq!(t.returns, vec![2.5, 4.0]);
    }
}
