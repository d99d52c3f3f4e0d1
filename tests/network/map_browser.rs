//! The page's map in headless Chromium: `gbwatch serve --map-layout` on 8 real PyBoy
//! walkers; each env's marker is its colour at the canvas place of its position.

use crate::common;
use crate::serve_browser::screenshot;

use common::serve::{get, serve};
use common::{gbwatch, pyboy_walkers, Scratch};

/// The canvas's border (`#map`), used nowhere else on the page.
const BORDER: [u8; 3] = [0x7a, 0x4f, 0xd0];
/// The page's palette (`PALETTE`), by the colour index `/api/map` gives.
const PALETTE: [[u8; 3]; 12] = [
    [0xff, 0, 0],
    [0, 0xff, 0],
    [0, 0x87, 0xff],
    [0xff, 0xff, 0],
    [0xff, 0, 0xff],
    [0, 0xff, 0xff],
    [0xff, 0x87, 0],
    [0xaf, 0, 0xff],
    [0x87, 0xff, 0],
    [0, 0xaf, 0xff],
    [0xff, 0xaf, 0],
    [0xff, 0, 0xaf],
];

const LAYOUT: &str = r#"{"regions": {
    "0": {"x": 0, "y": 0, "width": 20, "height": 18},
    "1": {"x": 20, "y": 0, "width": 20, "height": 18},
    "2": {"x": 40, "y": 0, "width": 20, "height": 18},
    "3": {"x": 60, "y": 0, "width": 20, "height": 18}}}"#;

const ENVS: [(&str, (u8, u8, u8)); 8] = [
    ("w0", (0, 3, 4)),
    ("w1", (0, 12, 10)),
    ("w2", (1, 5, 2)),
    ("w3", (1, 17, 15)),
    ("w4", (2, 0, 0)),
    ("w5", (2, 9, 13)),
    ("w6", (3, 19, 17)),
    ("w7", (3, 8, 6)),
];

#[test]
fn the_pages_map_draws_each_marker_at_its_place() {
    let dir = Scratch::new("map-browser");
    let layout = dir.path().join("layout.json");
    std::fs::write(&layout, LAYOUT).unwrap();
    let slots = dir.path().join("slots");
    std::fs::create_dir(&slots).unwrap();
    let _walkers = pyboy_walkers(&slots, &ENVS, &["bare"], &["--seconds", "120"]);
    let server = serve(
        gbwatch(),
        &[
            slots.to_str().unwrap(),
            "--map-layout",
            layout.to_str().unwrap(),
        ],
    );
    let map = common::eventually(
        "8 envs with a position in /api/map",
        common::wait::COLD_START,
        || {
            let m = get(server.addr, "/api/map").json();
            let with = m["envs"]
                .as_array()?
                .iter()
                .filter(|e| !e["at"].is_null())
                .count();
            (with == 8 && m["envs"].as_array()?.len() == 9).then_some(m)
        },
    );
    assert_eq!(map["distinct_positions"], 8, "{map:#}");
    let work = Scratch::new("map-browser-out");
    let shot = screenshot(
        &format!("http://{}/", server.addr),
        &work.path().join("map.png"),
        &work.path().join("profile"),
    );
    if let Some(keep) = std::env::var_os("GBWATCH_KEEP_SCREENSHOT") {
        std::fs::copy(work.path().join("map.png"), keep).unwrap();
    }
    // The canvas: inside the border's bounding box.
    let (mut x0, mut y0) = (usize::MAX, usize::MAX);
    for y in 0..shot.height {
        for x in 0..shot.width {
            if shot.px(x, y) == BORDER {
                (x0, y0) = (x0.min(x), y0.min(y));
            }
        }
    }
    assert!(x0 < usize::MAX, "no map canvas on the page");
    let (cx, cy) = (x0 + 2, y0 + 2);
    // An 80×18 world on an 800-pixel canvas: 10 pixels a unit; a marker fills its unit.
    for (name, (region, x, y)) in ENVS {
        let env = map["envs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap();
        let colour = PALETTE[env["colour"].as_u64().unwrap() as usize % 12];
        let wx = 20 * region as usize + x as usize;
        let (px, py) = (cx + wx * 10 + 5, cy + y as usize * 10 + 5);
        let got = shot.px(px, py);
        assert!(
            got.iter().zip(colour).all(|(a, b)| a.abs_diff(b) <= 8),
            "{name}: {got:?} at ({px}, {py}), expected its colour {colour:?}"
        );
    }
    // Where no env ever was, the canvas is black.
    assert_eq!(shot.px(cx + 15 * 10 + 5, cy + 17 * 10 + 5), [0, 0, 0]);
}
