//! The map view's state: the newest positions, the layout, which env is selected and the
//! list's order. Keys are handled here, without I/O; [`crate::tui::panels`] draws it.

use super::map_image::MapImage;
use super::map_layers::MapLayers;
use crate::pipeline::{MapSnapshot, Pos, Track, World, WorldLayout};
use crossterm::event::KeyCode;
use std::sync::{Arc, Mutex};

/// The map view's state.
#[derive(Debug, Clone, Default)]
pub struct MapState {
    /// The map is the view (`m` toggles it).
    pub shown: bool,
    /// The selected env, as an index into the monitor's feeds.
    pub selected: Option<usize>,
    /// The list is ordered by distance from the selected env (else by region, then name).
    pub by_distance: bool,
    /// The newest positions, trails and coverage.
    pub snapshot: MapSnapshot,
    /// The user's layout file, if given.
    pub layout: Option<Arc<WorldLayout>>,
    /// The zoomed env was chosen on the map: `esc` returns to it.
    pub back: bool,
    /// The background picture, stretched over a world of one panel.
    pub background: Option<Arc<MapImage>>,
    /// The half-block map's lower layers, kept between draws (see [`MapLayers`]): drawing
    /// stays a function of the state, this only saves repainting what did not change.
    pub layers: Arc<Mutex<MapLayers>>,
}

/// One env in the map's list.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Index into the monitor's feeds (its colour and letter come from it).
    pub feed: usize,
    /// The env's name.
    pub name: String,
    /// Its track; `None` before its first frame's info was read.
    pub track: Option<Arc<Track>>,
}

impl Entry {
    /// Where the env is now.
    pub fn at(&self) -> Option<Pos> {
        self.track.as_ref().and_then(|t| t.current)
    }
}

/// What a key did on the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKey {
    /// Handled here.
    Done,
    /// Zoom the env with this feed index.
    Zoom(usize),
    /// Leave the map.
    Close,
    /// Not a map key.
    Other,
}

/// The marker letter of the env at feed index `feed`: a-z, A-Z, then `*`.
pub fn letter(feed: usize) -> char {
    match feed {
        0..=25 => (b'a' + feed as u8) as char,
        26..=51 => (b'A' + (feed - 26) as u8) as char,
        _ => '*',
    }
}

impl MapState {
    /// The list: envs with a position (by region and name, or by distance from the
    /// selected one), then the envs without. `shown` is (feed index, name) of each env.
    pub fn entries(&self, shown: &[(usize, &str)]) -> Vec<Entry> {
        let mut list: Vec<Entry> = shown
            .iter()
            .map(|&(feed, name)| Entry {
                feed,
                name: name.to_string(),
                track: self.snapshot.feeds.get(name).cloned(),
            })
            .collect();
        let origin = self
            .selected
            .and_then(|s| list.iter().find(|e| e.feed == s)?.at());
        let key = |e: &Entry| -> (bool, i64, String, String) {
            let Some(p) = e.at() else {
                return (true, 0, String::new(), e.name.clone());
            };
            let region = self.snapshot.region_name(p.region).to_string();
            match origin.filter(|_| self.by_distance) {
                Some(o) if o.region == p.region => {
                    let d = (p.x - o.x).abs() as i64 + (p.y - o.y).abs() as i64;
                    (false, d, String::new(), e.name.clone())
                }
                Some(_) => (false, i64::MAX, region, e.name.clone()),
                None => (false, 0, region, e.name.clone()),
            }
        };
        list.sort_by_cached_key(key);
        list
    }

    /// The world the snapshot is drawn in.
    pub fn world(&self) -> World {
        World::new(&self.snapshot, self.layout.as_deref())
    }

    /// Applies a key, given the list as it is now.
    pub fn key(&mut self, code: KeyCode, list: &[Entry]) -> MapKey {
        let at = self
            .selected
            .and_then(|s| list.iter().position(|e| e.feed == s));
        let pick = |i: usize| list.get(i).map(|e| e.feed);
        match code {
            KeyCode::Down | KeyCode::Char('j') | KeyCode::Right | KeyCode::Char('l') => {
                let next = at.map_or(0, |i| (i + 1).min(list.len().saturating_sub(1)));
                self.selected = pick(next).or(self.selected);
            }
            KeyCode::Up | KeyCode::Char('k') | KeyCode::Left | KeyCode::Char('h') => {
                self.selected = pick(at.map_or(0, |i| i.saturating_sub(1))).or(self.selected);
            }
            KeyCode::Char('o') => self.by_distance = !self.by_distance,
            KeyCode::Enter | KeyCode::Char('e') => {
                if let Some(feed) = at.and_then(pick) {
                    self.shown = false;
                    self.back = true;
                    return MapKey::Zoom(feed);
                }
            }
            KeyCode::Esc | KeyCode::Char('m') => {
                self.shown = false;
                return MapKey::Close;
            }
            _ => return MapKey::Other,
        }
        MapKey::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(region: u32, x: i32, y: i32) -> Track {
        Track {
            current: Some(Pos { region, x, y }),
            has_fields: true,
            ..Track::default()
        }
    }

    fn map() -> MapState {
        let mut m = MapState::default();
        m.snapshot.regions = vec!["0".into(), "1".into()];
        for (name, t) in [
            ("far", track(0, 10, 10)),
            ("near", track(0, 1, 1)),
            ("other", track(1, 0, 0)),
            ("here", track(0, 0, 0)),
        ] {
            m.snapshot.feeds.insert(name.into(), Arc::new(t));
        }
        m
    }

    const SHOWN: [(usize, &str); 5] = [
        (0, "far"),
        (1, "near"),
        (2, "bare"),
        (3, "other"),
        (4, "here"),
    ];

    fn names(list: &[Entry]) -> Vec<&str> {
        list.iter().map(|e| e.name.as_str()).collect()
    }

    #[test]
    fn lists_by_region_then_by_distance_and_envs_without_position_last() {
        let mut m = map();
        assert_eq!(
            names(&m.entries(&SHOWN)),
            ["far", "here", "near", "other", "bare"]
        );
        m.selected = Some(4);
        m.key(KeyCode::Char('o'), &[]);
        assert_eq!(
            names(&m.entries(&SHOWN)),
            ["here", "near", "far", "other", "bare"]
        );
        assert_eq!(m.entries(&SHOWN)[4].track, None);
    }

    #[test]
    fn keys_move_the_selection_and_enter_zooms() {
        let mut m = map();
        m.shown = true;
        let list = m.entries(&SHOWN);
        assert_eq!(m.key(KeyCode::Down, &list), MapKey::Done);
        assert_eq!(m.selected, Some(0));
        m.key(KeyCode::Char('j'), &list);
        m.key(KeyCode::Char('j'), &list);
        m.key(KeyCode::Char('k'), &list);
        assert_eq!(m.selected, Some(4), "far, here, near, back to here");
        assert_eq!(m.key(KeyCode::Enter, &list), MapKey::Zoom(4));
        assert!(!m.shown && m.back);
        assert_eq!(m.key(KeyCode::Char('x'), &list), MapKey::Other);
        assert_eq!(m.key(KeyCode::Esc, &list), MapKey::Close);
    }

    #[test]
    fn letters() {
        assert_eq!(
            (letter(0), letter(25), letter(26), letter(60)),
            ('a', 'z', 'A', '*')
        );
    }
}
