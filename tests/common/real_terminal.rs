//! Real terminals under a virtual X server, for tests that must see what a terminal really
//! draws: start `Xvfb` on a free display, run xterm (as a VT340, sixel) or kitty in it with
//! a known font and geometry, hand the terminal bytes to show, and screenshot the screen
//! (ImageMagick's `import`) as RGBA pixels. Plus the checks the tests make on a
//! screenshot: where a picture is and whether it is a given frame scaled.
//!
//! Needs `Xvfb`, `xterm`, `kitty`, `import` and `python3` (installed by tests/run-all.sh);
//! a missing tool is a panic naming it, never a skipped test.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The background both terminals are given: a colour no Game Boy frame has, so a picture's
/// bounding box is every pixel that is not this colour.
pub const BACKGROUND: [u8; 3] = [0xff, 0x00, 0xff];

/// Which terminal to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// xterm 379 as a VT340 with 256 colour registers (sixel).
    Xterm,
    /// kitty (0.26.5 on Debian 12) with no config, software OpenGL.
    Kitty,
}

/// An RGBA picture.
#[derive(Debug, Clone)]
pub struct Picture {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// RGBA bytes, row by row.
    pub rgba: Vec<u8>,
}

impl Picture {
    /// The RGB of pixel (x, y).
    pub fn at(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 4;
        [self.rgba[i], self.rgba[i + 1], self.rgba[i + 2]]
    }
}

/// A terminal window the size of the X screen, running a loop that shows payloads.
pub struct Session {
    xvfb: Child,
    term: Child,
    display: u32,
    dir: PathBuf,
    shown: usize,
    /// Which terminal runs.
    pub kind: Kind,
    /// (rows, cols, width px, height px) of the terminal's text area, from TIOCGWINSZ
    /// inside the terminal.
    pub winsize: (u16, u16, u16, u16),
}

fn need(tool: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{tool} is not installed: run `bash tests/run-all.sh` (it installs xvfb, xterm, kitty, imagemagick)"
    );
}

/// A display number nobody uses: no X socket or lock file for it, and not handed to another
/// test of this process (whose Xvfb may not have made its socket yet).
fn free_display() -> u32 {
    static CLAIMED: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());
    let mut claimed = CLAIMED.lock().unwrap();
    let base = 90 + std::process::id() % 400 * 4;
    let n = (base..base + 400)
        .find(|n| {
            !claimed.contains(n)
                && !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .expect("a free X display number");
    claimed.push(n);
    n
}

impl Session {
    /// Starts Xvfb with a `screen_w`x`screen_h` screen and the terminal filling it; the
    /// terminal then shows what [`show`](Self::show) hands it.
    pub fn start(kind: Kind, screen_w: u32, screen_h: u32) -> Session {
        Session::start_running(kind, screen_w, screen_h, None)
    }

    /// Like [`start`](Self::start), but the terminal runs the shell command `command`
    /// (after reporting its size) instead of showing payloads.
    pub fn start_running(
        kind: Kind,
        screen_w: u32,
        screen_h: u32,
        command: Option<&str>,
    ) -> Session {
        for tool in ["Xvfb", "import", "python3"] {
            need(tool);
        }
        need(match kind {
            Kind::Xterm => "xterm",
            Kind::Kitty => "kitty",
        });
        let dir = std::env::temp_dir().join(format!(
            "gbwatch-realterm-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let display = free_display();
        let xvfb = Command::new("Xvfb")
            .arg(format!(":{display}"))
            .args([
                "-screen",
                "0",
                &format!("{screen_w}x{screen_h}x24"),
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("xvfb.log")).unwrap())
            .spawn()
            .expect("start Xvfb");
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{display}"));
        let mut xvfb = xvfb;
        let xvfb_log = dir.join("xvfb.log");
        super::wait::started("Xvfb's socket", &xvfb_log, || socket.exists());
        assert!(
            xvfb.try_wait().unwrap().is_none(),
            "Xvfb :{display} exited (display taken?)"
        );
        // The loop inside the terminal: hide the cursor, report the window size, then cat
        // each payload file as it appears and acknowledge it.
        let script = format!(
            r#"printf '\033[?25l\033[2J'
python3 -c 'import fcntl,termios,struct;print(*struct.unpack("HHHH",fcntl.ioctl(0,termios.TIOCGWINSZ,b"\0"*8)))' > {d}/size.tmp && mv {d}/size.tmp {d}/size
{body}"#,
            d = dir.display(),
            body = match command {
                // The cursor gbwatch shows again on exit is hidden, so only pictures count.
                Some(c) => format!(
                    "{c}\necho $? > {}/status\nprintf '\\033[?25l'\nsleep 600",
                    dir.display()
                ),
                None => format!(
                    r#"n=0
while :; do
  if [ -f {d}/payload.$n ]; then cat {d}/payload.$n; touch {d}/done.$n; n=$((n+1)); else sleep 0.02; fi
done"#,
                    d = dir.display()
                ),
            }
        );
        std::fs::write(dir.join("loop.sh"), script).unwrap();
        let loop_sh = dir.join("loop.sh");
        let mut cmd = match kind {
            Kind::Xterm => {
                let mut c = Command::new("xterm");
                c.args(["-ti", "vt340", "-xrm", "XTerm*decTerminalID: vt340"])
                    .args(["-xrm", "XTerm*numColorRegisters: 256"])
                    .args([
                        "-fn", "10x20", "-bg", "#ff00ff", "-fg", "white", "-b", "0", "-bw", "0",
                    ])
                    .args([
                        "-geometry",
                        &format!("{}x{}+0+0", screen_w / 10, screen_h / 20),
                    ])
                    .args(["+sb", "-e", "sh"])
                    .arg(&loop_sh);
                c
            }
            Kind::Kitty => {
                let mut c = Command::new("kitty");
                c.args(["--config", "NONE"])
                    .args(["-o", "font_family=DejaVu Sans Mono", "-o", "font_size=10"])
                    .args(["-o", "background=#ff00ff", "-o", "window_padding_width=0"])
                    .args(["-o", "remember_window_size=no"])
                    .args(["-o", &format!("initial_window_width={screen_w}")])
                    .args(["-o", &format!("initial_window_height={screen_h}")])
                    .args([
                        "-o",
                        "placement_strategy=top-left",
                        "-o",
                        "enable_audio_bell=no",
                    ])
                    .args(["-o", "linux_display_server=x11"])
                    .args(["sh"])
                    .arg(&loop_sh)
                    .env("LIBGL_ALWAYS_SOFTWARE", "1")
                    .env("KITTY_DISABLE_WAYLAND", "1");
                c
            }
        };
        let term = cmd
            .env("DISPLAY", format!(":{display}"))
            .env_remove("TMUX")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("term.log")).unwrap())
            .spawn()
            .expect("start the terminal");
        let mut s = Session {
            xvfb,
            term,
            display,
            dir,
            shown: 0,
            kind,
            winsize: (0, 0, 0, 0),
        };
        let size = s.dir.join("size");
        let term_log = s.dir.join("term.log");
        super::wait::started("the terminal to start", &term_log, || size.exists());
        let text = std::fs::read_to_string(&size).unwrap();
        let v: Vec<u16> = text
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        s.winsize = (v[0], v[1], v[2], v[3]);
        s
    }

    /// Cell size in pixels, from the window size the terminal reports.
    pub fn cell(&self) -> (u16, u16) {
        let (rows, cols, w, h) = self.winsize;
        assert!(
            w > 0 && h > 0,
            "the terminal reports no pixel size: {:?}",
            self.winsize
        );
        (w / cols, h / rows)
    }

    /// The command's exit status once it has ended ([`start_running`](Self::start_running)).
    pub fn status(&self) -> Option<i32> {
        std::fs::read_to_string(self.dir.join("status"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Has the terminal write `bytes` (through `cat`) and waits until it has.
    pub fn show(&mut self, bytes: &[u8]) {
        let n = self.shown;
        let tmp = self.dir.join(format!("tmp.{n}"));
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, self.dir.join(format!("payload.{n}"))).unwrap();
        let done = self.dir.join(format!("done.{n}"));
        super::wait::until(
            "the terminal to take the bytes",
            Duration::from_secs(30),
            || done.exists(),
        );
        self.shown += 1;
    }

    /// A screenshot of the whole X screen.
    pub fn screenshot(&self) -> Picture {
        let path = self.dir.join("shot.png");
        let status = Command::new("import")
            .args(["-window", "root"])
            .arg(&path)
            .env("DISPLAY", format!(":{}", self.display))
            .status()
            .expect("run ImageMagick's import");
        assert!(status.success(), "import failed");
        read_png(&path)
    }

    /// Screenshots until `ok` holds for one (the terminal draws a little after it reads),
    /// returning the last one taken.
    pub fn screenshot_until(&self, timeout: Duration, ok: impl Fn(&Picture) -> bool) -> Picture {
        let start = Instant::now();
        loop {
            let p = self.screenshot();
            if ok(&p) || start.elapsed() > timeout {
                return p;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What the terminal wrote to its stderr so far (kitty logs protocol errors there).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("term.log")).unwrap_or_default()
    }

    /// Where the session keeps its files (screenshots are left there on failure).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.term.kill();
        let _ = self.term.wait();
        let _ = self.xvfb.kill();
        let _ = self.xvfb.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Reads a PNG file as RGBA.
pub fn read_png(path: &Path) -> Picture {
    let mut dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (info.width as usize, info.height as usize);
    let rgba = match info.color_type {
        png::ColorType::Rgba => buf[..w * h * 4].to_vec(),
        png::ColorType::Rgb => buf[..w * h * 3]
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        png::ColorType::Grayscale => buf[..w * h].iter().flat_map(|&g| [g, g, g, 255]).collect(),
        other => panic!("screenshot colour type {other:?}"),
    };
    Picture {
        width: w,
        height: h,
        rgba,
    }
}

/// The smallest rectangle (x, y, width, height) holding every pixel inside `within` that is
/// not the background (each channel within `tol` of [`BACKGROUND`]).
pub fn bounding_box(
    p: &Picture,
    within: (usize, usize, usize, usize),
    tol: u8,
) -> Option<(usize, usize, usize, usize)> {
    let (wx, wy, ww, wh) = within;
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for y in wy..(wy + wh).min(p.height) {
        for x in wx..(wx + ww).min(p.width) {
            let c = p.at(x, y);
            if c.iter().zip(BACKGROUND).any(|(a, b)| a.abs_diff(b) > tol) {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x);
                y1 = y1.max(y);
            }
        }
    }
    (x0 != usize::MAX).then(|| (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
}

/// Compares the `region` (x, y, width, height) of a screenshot with `frame` (RGBA,
/// `fw`x`fh`) scaled to it: for every frame pixel, the screenshot pixel at the centre of
/// where it lands. Returns the share of frame pixels whose colour matches within `tol`
/// per channel (1.0 = all).
pub fn match_scaled(
    p: &Picture,
    region: (usize, usize, usize, usize),
    frame: &[u8],
    fw: usize,
    fh: usize,
    tol: u8,
) -> f64 {
    let (rx, ry, rw, rh) = region;
    let mut ok = 0usize;
    for y in 0..fh {
        for x in 0..fw {
            let sx = rx + (2 * x + 1) * rw / (2 * fw);
            let sy = ry + (2 * y + 1) * rh / (2 * fh);
            let i = (y * fw + x) * 4;
            let want = [frame[i], frame[i + 1], frame[i + 2]];
            if sx < p.width
                && sy < p.height
                && p.at(sx, sy)
                    .iter()
                    .zip(want)
                    .all(|(a, b)| a.abs_diff(b) <= tol)
            {
                ok += 1;
            }
        }
    }
    ok as f64 / (fw * fh) as f64
}
