//! The dashboard page in a real browser: headless Chromium loads `/` from `gbwatch serve`
//! on a real PyBoy publisher; its screenshots must show a live, changing Game Boy screen.

use crate::common;
use crate::common::serve as serve_support;

use common::{gbwatch, Scratch};
use serve_support::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
/// The colour of the screen's border (`--frame: #2b6cb0`), used nowhere else on the page.
const BORDER: [u8; 3] = [0x2b, 0x6c, 0xb0];

/// An RGB screenshot.
pub(crate) struct Shot {
    pub(crate) width: usize,
    pub(crate) height: usize,
    rgb: Vec<u8>,
}

impl Shot {
    pub(crate) fn px(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// The box inside the screen's border: the bounding box of border-coloured pixels,
    /// shrunk past the 2 px border.
    fn screen_area(&self) -> (usize, usize, usize, usize) {
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        for y in 0..self.height {
            for x in 0..self.width {
                let p = self.px(x, y);
                if p.iter().zip(BORDER).all(|(a, b)| a.abs_diff(b) <= 6) {
                    (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
                }
            }
        }
        assert!(x0 < x1 && y0 < y1, "no screen border found in the page");
        (x0 + 3, y0 + 3, x1 - 3, y1 - 3)
    }
}

fn load_png(path: &Path) -> Shot {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut reader = png::Decoder::new(file).read_info().unwrap();
    let mut buf = vec![0u8; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    let rgb = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    Shot {
        width: info.width as usize,
        height: info.height as usize,
        rgb,
    }
}

/// How long one headless Chromium run may take (a cold start under load takes ~20 s).
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(90);

/// One headless Chromium run: load `url`, let it run ~3 s, screenshot. A run that hangs
/// (headless Chromium now and then never ends its virtual time) is killed after
/// [`CHROMIUM_TIMEOUT`] and tried once more.
pub(crate) fn screenshot(url: &str, out: &Path, profile: &Path) -> Shot {
    for attempt in 1..=2 {
        let _ = std::fs::remove_dir_all(profile);
        let mut child = Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--no-first-run",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--window-size=1100,800")
            .arg("--virtual-time-budget=3000")
            .arg(format!("--screenshot={}", out.display()))
            .arg(url)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(out.with_extension("log")).unwrap())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {CHROMIUM} ({e}); run `bash tests/run-all.sh` once")
            });
        let began = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if began.elapsed() > CHROMIUM_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let log = || std::fs::read_to_string(out.with_extension("log")).unwrap_or_default();
        match status {
            Some(status) => {
                assert!(
                    status.success() && out.exists(),
                    "chromium failed ({status}); its log:\n{}",
                    log()
                );
                return load_png(out);
            }
            None => eprintln!(
                "chromium still running after {CHROMIUM_TIMEOUT:?} (try {attempt} of 2): killed"
            ),
        }
    }
    panic!(
        "chromium hung twice on {url}; its log:\n{}",
        std::fs::read_to_string(out.with_extension("log")).unwrap_or_default()
    )
}

#[test]
fn dashboard_shows_a_live_screen_in_chromium() {
    let dir = Scratch::new("serve-browser");
    let (_publisher, server) = publisher_and_server(dir.path(), gbwatch(), &[], &[]);
    let url = format!("http://{}/", server.addr);
    let work = Scratch::new("serve-browser-out");

    let first = screenshot(
        &url,
        &work.path().join("1.png"),
        &work.path().join("profile1"),
    );
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let second = screenshot(
        &url,
        &work.path().join("2.png"),
        &work.path().join("profile2"),
    );
    if let Some(keep) = std::env::var_os("GBWATCH_KEEP_SCREENSHOT") {
        std::fs::copy(work.path().join("2.png"), keep).unwrap();
    }

    let (x0, y0, x1, y1) = first.screen_area();
    assert_eq!((x0, y0, x1, y1), second.screen_area(), "layout moved");
    // The screen shows 160x144 scaled up, keeping its aspect ratio.
    let (w, h) = ((x1 - x0) as f64, (y1 - y0) as f64);
    assert!(w >= 320.0, "screen only {w} px wide");
    assert!((w / h - 160.0 / 144.0).abs() < 0.03, "aspect {w}x{h}");

    // Not blank: a Game Boy scene has several shades and lots of dark/light pixels.
    let mut shades = std::collections::HashSet::new();
    let (mut dark, mut light, mut differ, mut total) = (0usize, 0usize, 0usize, 0usize);
    for y in y0..y1 {
        for x in x0..x1 {
            let (a, b) = (first.px(x, y), second.px(x, y));
            shades.insert(a[0] / 32);
            let lum = a.iter().map(|&v| v as u32).sum::<u32>() / 3;
            dark += (lum < 80) as usize;
            light += (lum > 180) as usize;
            differ += a.iter().zip(b).any(|(p, q)| p.abs_diff(q) > 40) as usize;
            total += 1;
        }
    }
    assert!(
        shades.len() >= 4,
        "only {} shades in the screen area",
        shades.len()
    );
    assert!(
        dark * 20 > total && light * 20 > total,
        "screen area looks blank ({dark} dark, {light} light of {total})"
    );
    // The scene scrolls: two screenshots 1.5 s apart differ in the screen area.
    assert!(
        differ * 50 > total,
        "screen area did not change ({differ} of {total} pixels)"
    );

    // Outside the screen the page is the dark background, so the check above is about the image.
    assert_eq!(
        first.px(first.width - 5, first.height - 5),
        [0x14, 0x16, 0x1a]
    );
    // The preset buttons and the stats table rendered (bright text in the header band).
    let bright_in_header = (0..first.width)
        .flat_map(|x| (0..50).map(move |y| (x, y)))
        .filter(|&(x, y)| first.px(x, y).iter().all(|&v| v > 200))
        .count();
    assert!(bright_in_header > 100, "the header looks empty");
}

/// The page, as headless Chromium builds it, has a clip link on each env's card; following
/// it gives the env's last 30 s as a GIF.
#[test]
fn the_page_offers_a_clip_of_each_env_in_chromium() {
    let dir = Scratch::new("serve-browser-clip");
    let (_publisher, server) = publisher_and_server(dir.path(), gbwatch(), &[], &[]);
    let work = Scratch::new("serve-browser-clip-out");
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
        ])
        .arg(format!(
            "--user-data-dir={}",
            work.path().join("profile").display()
        ))
        .args(["--virtual-time-budget=3000", "--dump-dom"])
        .arg(format!("http://{}/", server.addr))
        .stderr(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {CHROMIUM} ({e}); run `bash tests/run-all.sh` once")
        });
    let dom = String::from_utf8_lossy(&out.stdout);
    let at = dom
        .find("class=\"clip\"")
        .unwrap_or_else(|| panic!("no clip link on the page:\n{dom}"));
    let tag = &dom[dom[..at].rfind('<').unwrap()..];
    let href = tag
        .split("href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let href = href.replace("&amp;", "&");
    assert!(href.starts_with("/api/clip?source="), "{href}");
    assert!(tag[..tag.find('>').unwrap()].contains("download="), "{tag}");
    let clip = get(server.addr, &href);
    assert_eq!(clip.status, 200, "{}", clip.text());
    assert_eq!(clip.header("Content-Type"), Some("image/gif"));
    assert!(clip.body.starts_with(b"GIF89a"), "not a GIF");
}
