//! The map view in tmux on real PyBoy envs of the walking ROM: markers at the cells of the
//! positions the envs read from RAM, the coverage count, a marker chosen and zoomed, an env
//! without position fields listed as such.

use crate::common;

use common::tmux::Tmux;
use common::{pyboy_walkers, Scratch};

/// Four 20×18 regions side by side: region r's x starts at 20 r.
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

/// The marker letter the list gives env `name` (its line: "L NAME  MAP:X,Y (N)").
fn letter_of(screen: &str, name: &str) -> (char, String) {
    let needle = format!(" {name:<12} ");
    let line = screen
        .lines()
        .find(|l| l.contains(&needle))
        .unwrap_or_else(|| panic!("{name} not listed:\n{screen}"));
    let at = line.find(&needle).unwrap();
    let letter = line[..at].chars().last().unwrap();
    let rest = line[at + needle.len()..]
        .trim_end_matches(['│', ' '])
        .trim()
        .to_string();
    (letter, rest)
}

/// The character at column `x`, row `y` of the screen.
fn cell(screen: &str, x: usize, y: usize) -> Option<char> {
    screen.lines().nth(y)?.chars().nth(x)
}

#[test]
fn the_map_shows_eight_real_envs_where_they_stand_and_zooms_one() {
    let dir = Scratch::new("map-tmux");
    let layout = dir.path().join("layout.json");
    std::fs::write(&layout, LAYOUT).unwrap();
    let slots = dir.path().join("slots");
    std::fs::create_dir(&slots).unwrap();
    let _walkers = pyboy_walkers(&slots, &ENVS, &["bare"], &["--seconds", "120"]);
    let tmux = Tmux::start("map", 120, 30);
    let cmd = format!(
        "GBWATCH_DIR={} {} watch --map --map-layout {}",
        slots.display(),
        env!("CARGO_BIN_EXE_gbwatch"),
        layout.display()
    );
    tmux.run(&["send-keys", "-t", "t", &cmd, "Enter"]);
    let screen = tmux.wait_for("8 envs on the map and the bare one listed", 60, |s| {
        s.contains("8 of 9 envs with a position") && s.contains("no position fields")
    });
    // The coverage count is the number of distinct positions the envs reported: 8.
    assert!(screen.contains("map · 8 positions covered"), "{screen}");
    assert!(screen.contains("covered 8 positions"), "{screen}");
    let (_, bare) = letter_of(&screen, "bare");
    assert_eq!(bare, "no position fields");
    // The map's inner area starts at column 1, row 1; one world unit is a column, two a row.
    for (name, (map, x, y)) in ENVS {
        let (letter, listed) = letter_of(&screen, name);
        assert_eq!(
            listed,
            format!("{map}:{x},{y} (1)"),
            "{name} reported\n{screen}"
        );
        let (col, row) = (1 + 20 * map as usize + x as usize, 1 + y as usize / 2);
        assert_eq!(
            cell(&screen, col, row),
            Some(letter),
            "{name}'s marker {letter} not at column {col}, row {row}:\n{screen}"
        );
    }
    // The list is by region, then name: the first entry is w0; enter zooms it.
    tmux.run(&["send-keys", "-t", "t", "Down"]);
    tmux.run(&["send-keys", "-t", "t", "Enter"]);
    let zoomed = tmux.wait_for("w0 zoomed", 20, |s| {
        s.contains("w0 #") && !s.contains("covered")
    });
    assert!(!zoomed.contains("w1 #"), "{zoomed}");
    tmux.run(&["send-keys", "-t", "t", "Escape"]);
    let screen = tmux.wait_for("back on the map", 20, |s| {
        s.contains("map · 8 positions covered")
    });
    // A click (an SGR mouse report typed into the pane, as a terminal sends it; 1-based
    // cells) on w6's marker zooms w6.
    let (letter, _) = letter_of(&screen, "w6");
    let (col, row) = (1 + 20 * 3 + 19, 1 + 17 / 2);
    assert_eq!(cell(&screen, col, row), Some(letter), "{screen}");
    let click = |press: char| format!("\x1b[<0;{};{}{press}", col + 1, row + 1);
    tmux.run(&["send-keys", "-t", "t", "-l", &(click('M') + &click('m'))]);
    let zoomed = tmux.wait_for("w6 zoomed by a click", 20, |s| {
        s.contains("w6 #") && !s.contains("covered")
    });
    assert!(!zoomed.contains("w0 #"), "{zoomed}");
    tmux.run(&["send-keys", "-t", "t", "q"]);
}
