//! Where everything goes: computed once per draw from the state and the terminal area,
//! then handed to the panels and to the picture renderers.

use crate::source::{DEMO_BANNER, DEMO_KEY};
use crate::tui::geometry::grid_shape;
use crate::tui::state::{State, View};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Block;

/// Smallest usable terminal.
pub const MIN_SIZE: (u16, u16) = (40, 12);
/// Width of the side panel.
const SIDE: u16 = 44;

/// Where a feed's picture goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PictureArea {
    /// Index into [`State::feeds`].
    pub feed: usize,
    /// The cells the picture may fill (inside the tile's border).
    pub rect: Rect,
    /// Grey the picture (offline source).
    pub dim: bool,
}

/// The areas of the view on screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Areas {
    /// Nothing to lay out (no feed, or too small).
    #[default]
    Empty,
    /// One feed (index into [`State::feeds`]): its frame block and the side panel.
    Single {
        /// Index into [`State::feeds`].
        feed: usize,
        /// The frame block.
        frame: Rect,
        /// The side panel.
        side: Rect,
    },
    /// The tiles of the page holding the selected feed, as (visible index, rect).
    Grid {
        /// (index into [`State::visible`], tile rect).
        tiles: Vec<(usize, Rect)>,
        /// The page shown (0-based).
        page: usize,
        /// How many pages there are.
        pages: usize,
    },
    /// The map: its canvas and the list of envs.
    Map {
        /// Where the map is drawn.
        canvas: Rect,
        /// The list of envs.
        list: Rect,
    },
}

/// The screen's layout for a state and a terminal area.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Screen {
    /// One per shown feed that has a frame.
    pub images: Vec<PictureArea>,
    /// The area is below [`MIN_SIZE`]: only a notice is drawn.
    pub too_small: bool,
    /// Everything above the status bar.
    pub body: Rect,
    /// The status bar.
    pub status: Rect,
    /// The timeline strip above it, while history is kept.
    pub timeline: Option<Rect>,
    /// The view's own areas.
    pub areas: Areas,
    /// The help overlay, when it is open.
    pub help: Option<Rect>,
}

/// Single view: (frame block, side panel).
fn split_single(body: Rect) -> (Rect, Rect) {
    if body.width >= SIDE + 30 {
        let [f, s] =
            Layout::horizontal([Constraint::Min(30), Constraint::Length(SIDE)]).areas(body);
        (f, s)
    } else {
        let panel_h = 19.min(body.height.saturating_sub(4));
        let [f, s] =
            Layout::vertical([Constraint::Min(4), Constraint::Length(panel_h)]).areas(body);
        (f, s)
    }
}

fn grid_areas(state: &State, body: Rect) -> Areas {
    let n = state.visible().len();
    let (cols, rows) = grid_shape(n, body.width, body.height);
    let per_page = cols * rows;
    let page = state.selected / per_page;
    let (tw, th) = (body.width / cols as u16, body.height / rows as u16);
    let tiles = (page * per_page..n.min((page + 1) * per_page))
        .map(|i| {
            let k = i - page * per_page;
            let (c, r) = ((k % cols) as u16, (k / cols) as u16);
            (i, Rect::new(body.x + c * tw, body.y + r * th, tw, th))
        })
        .collect();
    Areas::Grid {
        tiles,
        page,
        pages: n.div_ceil(per_page),
    }
}

/// The picture area inside a feed's frame block (below the demo banner when shown).
pub fn frame_inner(key: &str, frame_area: Rect) -> Rect {
    let inner = Block::bordered().inner(frame_area);
    if key == DEMO_KEY {
        let h = (DEMO_BANNER.len() as u16).min(inner.height);
        Rect {
            y: inner.y + h,
            height: inner.height - h,
            ..inner
        }
    } else {
        inner
    }
}

/// Computes where everything goes.
pub fn layout(state: &State, area: Rect) -> Screen {
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        return Screen {
            too_small: true,
            ..Screen::default()
        };
    }
    let strip = u16::from(state.timeline.is_some());
    let [body, timeline, status] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(strip),
        Constraint::Length(1),
    ])
    .areas(area);
    let timeline = state.timeline.is_some().then_some(timeline);
    let vis = state.visible();
    let areas = match state.view() {
        View::Empty => Areas::Empty,
        View::Single(i) => {
            let (frame, side) = split_single(body);
            Areas::Single {
                feed: vis[i],
                frame,
                side,
            }
        }
        View::Grid => grid_areas(state, body),
        View::Map => {
            let (canvas, list) = super::map::split(body);
            Areas::Map { canvas, list }
        }
    };
    let picture_area = |feed: usize, rect: Rect| {
        let f = &state.feeds[feed];
        (f.frame.is_some() && rect.width > 0 && rect.height > 0).then(|| PictureArea {
            feed,
            rect,
            dim: f.is_offline(),
        })
    };
    let images = match &areas {
        Areas::Empty | Areas::Map { .. } => Vec::new(),
        Areas::Single { feed, frame, .. } => {
            picture_area(*feed, frame_inner(state.feeds[*feed].key(), *frame))
                .into_iter()
                .collect()
        }
        Areas::Grid { tiles, .. } => tiles
            .iter()
            .filter_map(|&(i, rect)| picture_area(vis[i], Block::bordered().inner(rect)))
            .collect(),
    };
    // Pictures under the help overlay are left out; the others stay on screen.
    let side = match &areas {
        Areas::Single { side, .. } => Some(*side),
        _ => None,
    };
    let help = state
        .help
        .then(|| super::help::area(side, area, state.timeline.as_ref()));
    let images = match help {
        Some(help) => images
            .into_iter()
            .filter(|s| !s.rect.intersects(help))
            .collect(),
        None => images,
    };
    Screen {
        images,
        help,
        too_small: false,
        body,
        status,
        timeline,
        areas,
    }
}
