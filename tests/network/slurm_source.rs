//! `slurm:JOBID` against a real Slurm of one node on this machine (munged, slurmctld and
//! slurmd started by the test) whose node is reached by a real sshd: a job running real
//! PyBoy publishers shows as `NODE/ENV` in `stats` and `watch` with PyBoy's exact pixels,
//! `scancel` turns its feeds offline with the job's line, a pending job and a machine
//! without `squeue` each say so in one line, and `list` and `hosts:FILE` take them too.

use crate::common;

use common::slurm::{Slurm, NODE};
use common::sshd::{SshHome, IN_PROCESS_SSH};
use common::tmux::Tmux;
use common::{eventually, gbwatch, stats_json, Scratch};
use gbwatch::pipeline::{FeedOptions, FeedSet, FeedState, Settings, SharedSettings};
use gbwatch::source::SourceSpec;
use std::time::Duration;

const FRAME: usize = 160 * 144 * 4;

#[test]
fn a_slurm_job_shows_its_nodes_envs_and_goes_offline_when_it_ends() {
    let slots = Scratch::new("slurm-slots");
    let home = SshHome::new();
    let slurm = Slurm::start();
    // The node's sessions find gbwatch and the job's slot directory, as on a real node, and
    // (as on a login node) the cluster's squeue.
    let env = format!(
        "GBWATCH_DIR={} SLURM_CONF={}",
        slots.path().display(),
        slurm.conf().display()
    );
    let sshd = home.start_with(0, true, &env);
    let ssh = format!(
        "{} -o HostName=127.0.0.1 -p {}",
        home.ssh_command("id"),
        sshd.port
    );
    let with = |cmd: &mut std::process::Command| {
        cmd.env("SLURM_CONF", slurm.conf()).env("GBWATCH_SSH", &ssh);
    };

    // A job that is pending (it may not start for an hour) says so.
    let later = slurm.sbatch(slots.path(), &["--begin=now+1hour"], "sleep 1");
    let mut stats = gbwatch();
    with(&mut stats);
    let out = stats
        .args(["stats", "--duration", "2", "--wait", "2"])
        .arg(format!("slurm:{later}"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("slurm:{later}: job {later} pending")),
        "{err}"
    );
    slurm.scancel(&later);

    // A training job: real PyBoy publishers, env-a saving every frame it publishes.
    let python = common::python();
    let py = |s: &str| common::root().join("tests/py").join(s);
    let save = slots.path().join("pyboy.frames");
    let script = format!(
        "GBWATCH_DIR={dir} {python} {a} --dir {dir} --name env-a --fps 20 --seconds 120 --save {save} & \
         {python} {many} --dir {dir} --fps 10 --seconds 120 --names env-b & wait",
        dir = slots.path().display(),
        python = python.display(),
        a = py("pyboy_publisher.py").display(),
        many = py("pyboy_many.py").display(),
        save = save.display(),
    );
    let job = slurm.sbatch(slots.path(), &[], &script);
    common::wait::started(
        "the job's two publishers",
        &slurm.path(&format!("log/job-{job}.out")),
        || slots.path().join("env-a.slot").exists() && slots.path().join("env-b.slot").exists(),
    );
    assert_eq!(slurm.state(&job), "RUNNING", "{}", slurm.job_output(&job));
    let src = format!("slurm:{job}");

    let mut stats = gbwatch();
    with(&mut stats);
    let v = stats_json(
        stats
            .args(["stats", "--json", "--duration", "4", "--preset", "low"])
            .arg(&src),
    );
    let feeds = v["feeds"].as_array().unwrap();
    let names = common::feed_names(&v);
    assert_eq!(
        names,
        [format!("{NODE}/env-a"), format!("{NODE}/env-b")],
        "{v:#}"
    );
    for f in feeds {
        assert_eq!(f["method"], "ssh", "{f:#}");
        assert!(f["captured"].as_u64().unwrap() >= 5, "{f:#}");
    }

    // list: the node's own list, under its name.
    let mut list = gbwatch();
    with(&mut list);
    let out = common::run_ok(list.arg("list").arg(&src));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with(&format!("== {NODE}\n")), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("env-a") && l.ends_with("online")),
        "{text}"
    );

    // hosts:FILE: the same node named in a file.
    let hosts = slots.path().join("hosts.txt");
    std::fs::write(&hosts, format!("# the training nodes\n{NODE}\n")).unwrap();
    let mut stats = gbwatch();
    with(&mut stats);
    let v = stats_json(
        stats
            .args(["stats", "--json", "--duration", "3", "--preset", "low"])
            .arg(format!("hosts:{}", hosts.display())),
    );
    assert_eq!(v["feeds"].as_array().unwrap().len(), 2, "{v:#}");

    // slurm://LOGIN/JOBID: squeue on the login host (a second sshd), the node through it
    // (ssh -J), with the user's ssh config as ProxyJump reads it.
    let login = home.start_with(0, true, &env);
    let config = slots.path().join("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n  \
             UserKnownHostsFile /dev/null\n  LogLevel ERROR\n  ConnectTimeout 3\n\
             Host {NODE}\n  HostName 127.0.0.1\n  Port {}\n",
            home.path("id").display(),
            sshd.port
        ),
    )
    .unwrap();
    let v = stats_json(
        gbwatch()
            .env_remove("SLURM_CONF")
            .env("GBWATCH_SSH", format!("ssh -F {}", config.display()))
            .args(["stats", "--json", "--duration", "3", "--preset", "low"])
            .arg(format!(
                "slurm://{}@127.0.0.1:{}/{job}",
                home.user, login.port
            )),
    );
    let names = common::feed_names(&v);
    assert_eq!(
        names,
        [format!("{NODE}/env-a"), format!("{NODE}/env-b")],
        "{v:#}"
    );

    // watch in tmux: both envs under the node's name.
    let tmux = Tmux::start("slurm", 200, 50);
    let cmd = format!(
        "SLURM_CONF={} GBWATCH_SSH='{ssh}' {} {src}",
        slurm.conf().display(),
        env!("CARGO_BIN_EXE_gbwatch")
    );
    tmux.run(&["send-keys", "-t", "t", &cmd, "Enter"]);
    tmux.wait_for("the job's two envs", 60, |s| {
        s.contains(" 2 envs")
            && s.contains(&format!("{NODE}/env-a"))
            && s.contains(&format!("{NODE}/env-b"))
    });

    // In-process: PyBoy's exact pixels through the job's node.
    let _one = IN_PROCESS_SSH.lock().unwrap_or_else(|e| e.into_inner());
    std::env::set_var("GBWATCH_SSH", &ssh);
    std::env::set_var("SLURM_CONF", slurm.conf());
    let settings = Settings::with_overrides(1, Some(1), Some(10), None).unwrap();
    let set = FeedSet::start(
        vec![SourceSpec::parse(&src).unwrap()],
        SharedSettings::new(settings),
        FeedOptions::default(),
    );
    let feed = eventually("env-a of the job", Duration::from_secs(30), || {
        set.feeds()
            .into_iter()
            .find(|f| f.name == format!("{NODE}/env-a"))
    });
    let frames: Vec<_> = (0..5)
        .map(|_| {
            feed.queue
                .pop_timeout(Duration::from_secs(10))
                .expect("a frame")
        })
        .collect();
    let saved = std::fs::read(&save).unwrap();
    for f in &frames {
        let original = saved
            .chunks_exact(8 + FRAME)
            .find(|r| u64::from_le_bytes(r[..8].try_into().unwrap()) == f.frame_index)
            .expect("a frame PyBoy published");
        assert!(
            f.pixels == original[8..],
            "frame {} differs from PyBoy's",
            f.frame_index
        );
    }

    // scancel: every feed offline with the job's line, in the library and on screen.
    slurm.scancel(&job);
    let line = format!("job {job} ended");
    eventually("the job's feeds offline", Duration::from_secs(30), || {
        let feeds = set.feeds();
        (feeds.len() == 2
            && feeds.iter().all(
                |f| matches!(&f.status().state, FeedState::Offline(r) if r.starts_with(&line)),
            ))
        .then_some(())
    });
    set.stop();
    std::env::remove_var("SLURM_CONF");
    // The grid's tiles say "offline"; the zoomed env says why.
    tmux.wait_for("the grid's tiles offline", 30, |s| {
        s.matches(" offline ").count() == 2
    });
    tmux.run(&["send-keys", "-t", "t", "Enter"]);
    let offline = format!("offline: {line}");
    tmux.wait_for("the job's line on screen", 30, |s| s.contains(&offline));
    tmux.run(&["send-keys", "-t", "t", "q"]);
}

#[test]
fn no_squeue_on_the_path_says_where_to_run_in_one_line() {
    let empty = Scratch::new("no-squeue");
    let out = gbwatch()
        .env("PATH", empty.path())
        .args(["stats", "--duration", "1", "--wait", "1", "slurm:42"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err.lines().next().unwrap_or("");
    assert!(
        line.contains("slurm:42: squeue is not on this machine's PATH")
            && line.contains("slurm://LOGIN/42"),
        "{err}"
    );
}
