//! Every shell command the README shows, run as it is written: by `bash -c` (or typed into
//! tmux for the ones that draw) in a scratch directory where real PyBoy publishes `env-00`
//! into `$GBWATCH_DIR`, with the built gbwatch on the PATH and an `ssh` that reads a config
//! naming `box1`, `box2` and `training-box` as a real sshd on 127.0.0.1 (whose sessions
//! publish nothing but read the same slot directory). Two substitutions, so the test is
//! short and never collides: `record`'s `--duration 30` becomes 3, and port 8080 a free port.
//! A README command neither run here nor named in [`ELSEWHERE`] fails the test.

use crate::common;

use common::serve::{decode_jpeg, get_ok};
use common::sshd::SshHome;
use common::tmux::Tmux;
use common::{eventually, pyboy_publisher, root, run_ok, until, Scratch};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// README commands run by another test (or by CI itself), and by which.
const ELSEWHERE: &[(&str, &str)] = &[
    (
        "cargo run --release",
        "terminal::watch::first_run_with_no_publisher_plays_the_demo (the built binary, no arguments)",
    ),
    ("bash tests/run-all.sh", ".ci/run"),
    (
        "gbwatch clip run.gbrec --env env-03 --from 1m30s --to 2m -o stuck.gif",
        "python::clip_recording (a real `gbwatch record` recording cut by --env/--from/--to, GIF and MP4 decoded)",
    ),
    (
        "gbwatch watch --map",
        "terminal::map_view (with --map-layout, on 8 PyBoy walkers)",
    ),
    (
        "gbwatch watch --map --map-layout world.json --map-image world.png --trail 60",
        "terminal::map_real (the layout and image written by the test, default trail)",
    ),
    (
        "gbwatch serve --map-layout world.json",
        "network::map_browser (the layout written by the test)",
    ),
    (
        "pip install ./examples/python",
        "tests/run-all.sh (maturin builds the same wheel)",
    ),
    (
        "cd examples/python && maturin build --release --out dist",
        "tests/run-all.sh (the wheel python::wheel installs)",
    ),
    (
        "pip install dist/gbwatch-0.1.0-py3-none-manylinux_2_34_x86_64.whl",
        "python::wheel (into a fresh venv with no cargo on the PATH)",
    ),
    (
        "gbwatch watch ssh://box1 ssh://box2 ssh://me@box3 ssh://gpu@box4:2222/dev/shm/gbwatch",
        "network::ssh_source (ssh://USER@HOST:PORT/SLOT-DIR on a real sshd)",
    ),
    (
        "gbwatch watch slurm:12345",
        "network::slurm_source (slurm:JOBID of a real Slurm job, watch in tmux)",
    ),
    (
        "gbwatch watch slurm://login1/12345",
        "network::slurm_source (slurm://USER@LOGIN:PORT/JOBID: squeue on a real sshd, the node through ssh -J)",
    ),
];

/// The commands of the README's `sh` code blocks, comments taken off.
fn readme_commands() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("README.md")).unwrap();
    let (mut inside, mut out) = (false, Vec::new());
    for line in text.lines() {
        if let Some(lang) = line.trim_start().strip_prefix("```") {
            inside = !inside && lang == "sh";
        } else if inside && !line.trim().is_empty() {
            let line = line.split("  #").next().unwrap().trim();
            out.push(line.to_string());
        }
    }
    out
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The user's machine: a working directory, a PATH and the env the README assumes.
struct Desk {
    work: PathBuf,
    slots: PathBuf,
    bin: PathBuf,
    _dir: Scratch,
}

impl Desk {
    fn new(home: &SshHome, port: u16) -> Desk {
        let dir = Scratch::new("readme");
        let (work, slots, bin) = (
            dir.path().join("work"),
            dir.path().join("slots"),
            dir.path().join("bin"),
        );
        for d in [&work, &slots, &bin] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_gbwatch"), bin.join("gbwatch")).unwrap();
        let config = dir.path().join("ssh_config");
        std::fs::write(
            &config,
            format!(
                "Host box1 box2 training-box\n  HostName 127.0.0.1\n  Port {port}\n  User {}\n  \
                 IdentityFile {}\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n  \
                 UserKnownHostsFile /dev/null\n  LogLevel ERROR\n",
                home.user,
                home.path("id").display()
            ),
        )
        .unwrap();
        let ssh = bin.join("ssh");
        std::fs::write(
            &ssh,
            format!(
                "#!/bin/sh\nexec /usr/bin/ssh -F {} \"$@\"\n",
                config.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o755)).unwrap();
        Desk {
            work,
            slots,
            bin,
            _dir: dir,
        }
    }

    fn path_var(&self) -> String {
        format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// `bash -c line` in the working directory, in a process group of its own.
    fn bash(&self, line: &str) -> Command {
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(line)
            .current_dir(&self.work)
            .env("PATH", self.path_var())
            .env("GBWATCH_DIR", &self.slots)
            .env_remove("GBWATCH_SSH")
            .process_group(0);
        cmd
    }

    /// A tmux session in the working directory with the same environment, `line` typed in.
    fn tmux(&self, tag: &str, line: &str) -> Tmux {
        // A server of its own per command: a new one on a just-killed socket can fail.
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmux = Tmux::start(&format!("{tag}{n}"), 160, 50);
        let setup = format!(
            "cd {} && export PATH={} GBWATCH_DIR={} && unset GBWATCH_SSH && clear",
            self.work.display(),
            self.path_var(),
            self.slots.display()
        );
        tmux.run(&["send-keys", "-t", "t", &setup, "Enter"]);
        tmux.run(&["send-keys", "-t", "t", line, "Enter"]);
        tmux
    }
}

/// Sends `signal` to the process group of `child` and waits for it to end.
fn stop(child: &mut Child, signal: i32, what: &str) {
    // SAFETY: kill(2) on the process group this test started; no memory is involved.
    unsafe {
        libc::kill(-(child.id() as i32), signal);
    }
    eventually(&format!("{what} to end"), Duration::from_secs(20), || {
        child.try_wait().unwrap()
    });
}

/// Waits until 127.0.0.1:`port` accepts connections.
fn listening(port: u16, what: &str) -> SocketAddr {
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    until(
        &format!("{what} on {addr}"),
        common::wait::COLD_START,
        || std::net::TcpStream::connect(addr).is_ok(),
    );
    addr
}

/// The README's serve `line` on `port` instead of 8080, once it listens.
fn serve_on(desk: &Desk, line: &str, port: u16) -> (Child, SocketAddr) {
    let line = line.replace("8080", &port.to_string());
    let serve = desk.bash(&line).stderr(Stdio::null()).spawn().unwrap();
    (serve, listening(port, "serve"))
}

/// Lines of the screen that hold a picture in half blocks.
fn picture_rows(screen: &str) -> usize {
    screen
        .lines()
        .filter(|l| l.matches(['▀', '▄']).count() > 20)
        .count()
}

fn quit(tmux: &Tmux) {
    tmux.run(&["send-keys", "-t", "t", "q"]);
    tmux.wait_for("the shell prompt after q", 20, |s| {
        s.lines().any(|l| l.starts_with("bash-"))
    });
}

fn watch(desk: &Desk, line: &str, names: &[&str]) {
    let tmux = desk.tmux("readme", line);
    tmux.wait_for(&format!("`{line}` to draw {names:?}"), 60, |s| {
        names.iter().all(|n| s.contains(n)) && picture_rows(s) > 10
    });
    quit(&tmux);
}

fn stats_names(desk: &Desk, line: &str) -> Vec<String> {
    let out = run_ok(&mut desk.bash(line));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stats --json prints JSON");
    let names = common::feed_names(&v);
    for f in v["feeds"].as_array().unwrap() {
        assert!(f["captured"].as_u64().unwrap() >= 1, "{line}: {f:#}");
    }
    names
}

/// Runs one README command; false when this test does not know it.
fn run(desk: &Desk, line: &str) -> bool {
    let (serve_port, laptop_port) = (free_port(), free_port());
    match line {
        "gbwatch" => watch(desk, line, &["env-00"]),
        "gbwatch watch env-00.slot" => {
            let tmux = desk.tmux("readme", &format!("cd {} && {line}", desk.slots.display()));
            tmux.wait_for("the slot file's env drawn", 60, |s| {
                s.contains("env-00") && picture_rows(s) > 10
            });
            quit(&tmux);
        }
        "gbwatch watch --history 2m --history-size 256MB --mark 'episode_return>100'" => {
            let tmux = desk.tmux("readme", line);
            tmux.wait_for("the env drawn, with the timeline strip saying LIVE", 60, |s| {
                s.contains("env-00") && picture_rows(s) > 10 && s.contains("LIVE")
            });
            quit(&tmux);
        }
        "gbwatch watch --protocol halfblocks --colors truecolor" => {
            watch(desk, line, &["env-00"])
        }
        "gbwatch dump --stdout --preset high | ffmpeg -f mjpeg -framerate 15 -i - -c:v libx264 -pix_fmt yuv420p run.mp4" => {
            let mut child = desk
                .bash(line)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_secs(6));
            stop(&mut child, libc::SIGINT, "dump | ffmpeg after ctrl-c");
            let out = run_ok(
                Command::new("ffprobe")
                    .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
                    .args(["-show_entries", "stream=nb_read_frames,width,height"])
                    .args(["-of", "csv=p=0"])
                    .arg(desk.work.join("run.mp4")),
            );
            let fields: Vec<u64> = String::from_utf8_lossy(&out.stdout)
                .trim()
                .split(',')
                .map(|v| v.parse().unwrap())
                .collect();
            assert_eq!(fields[..2], [480, 432], "run.mp4 is the high preset (3x)");
            assert!(fields[2] >= 10, "run.mp4 holds {} frames", fields[2]);
        }
        "gbwatch stats --json --duration 5" => {
            assert_eq!(stats_names(desk, line), ["env-00"]);
        }
        "gbwatch list --prune" => {
            let out = run_ok(&mut desk.bash(line));
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.lines()
                    .any(|l| l.starts_with("env-00 ") && l.ends_with("online")),
                "{text}"
            );
        }
        "gbwatch serve --bind 127.0.0.1:8080 --preset medium" => {
            let (mut serve, addr) = serve_on(desk, line, serve_port);
            let shot = get_ok(addr, "/api/screenshot", Duration::from_secs(30));
            assert_eq!(decode_jpeg(&shot.body), (320, 288), "medium is 2x");
            stop(&mut serve, libc::SIGTERM, "serve");
        }
        "ssh -N -L 8080:127.0.0.1:8080 training-box" => {
            let (mut serve, _) = serve_on(
                desk,
                "gbwatch serve --bind 127.0.0.1:8080 --preset medium",
                serve_port,
            );
            let tunnel_line = line.replacen("8080", &laptop_port.to_string(), 1).replacen(
                "8080",
                &serve_port.to_string(),
                1,
            );
            let mut tunnel = desk.bash(&tunnel_line).spawn().unwrap();
            let laptop = listening(laptop_port, "the ssh tunnel");
            let page = get_ok(laptop, "/", Duration::from_secs(30));
            assert!(page.text().contains("<html"), "{}", page.text());
            stop(&mut tunnel, libc::SIGTERM, "the ssh tunnel");
            stop(&mut serve, libc::SIGTERM, "serve");
        }
        "gbwatch watch ssh://training-box" => watch(desk, line, &["training-box/env-00"]),
        "gbwatch watch a@ssh://box1 b@ssh://box2" => watch(desk, line, &["a/env-00", "b/env-00"]),
        "gbwatch stats --json ssh://box1 ssh://box2" => {
            assert_eq!(stats_names(desk, line), ["box1/env-00", "box2/env-00"]);
        }
        "gbwatch record -o run.gbrec --fps 60 --duration 30" => {
            run_ok(&mut desk.bash(&line.replace("--duration 30", "--duration 3")));
            assert!(desk.work.join("run.gbrec").metadata().unwrap().len() > 1000);
        }
        "gbwatch watch run.gbrec" => watch(desk, line, &["env-00"]),
        "gbwatch dump demo --count 10 --out frames/" => {
            run_ok(&mut desk.bash(line));
            let frames = std::fs::read_dir(desk.work.join("frames")).unwrap().count();
            assert_eq!(frames, 10);
        }
        _ => return false,
    }
    true
}

#[test]
fn every_readme_command_runs_as_written() {
    let home = SshHome::new();
    let port_probe = free_port();
    let desk = Desk::new(&home, port_probe);
    let env = format!("GBWATCH_DIR={}", desk.slots.display());
    let _sshd = home.start_with(port_probe, true, &env);
    let _pyboy = pyboy_publisher(&desk.slots, "env-00", &["--fps", "30", "--seconds", "300"]);
    until("env-00's slot", common::wait::COLD_START, || {
        Path::new(&desk.slots).join("env-00.slot").exists()
    });

    let commands = readme_commands();
    assert!(commands.len() >= 15, "{commands:#?}");
    let mut unknown = Vec::new();
    for line in &commands {
        if ELSEWHERE.iter().any(|(c, _)| c == line) {
            continue;
        }
        eprintln!("running: {line}");
        if !run(&desk, line) {
            unknown.push(line.clone());
        }
    }
    assert!(
        unknown.is_empty(),
        "README commands no test runs (run them here or name their test in ELSEWHERE): {unknown:#?}"
    );
}
