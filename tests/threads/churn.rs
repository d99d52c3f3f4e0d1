//! Publishers coming and going: 64 slots appearing and disappearing every second while the
//! pipeline watches the directory. The normal run lasts 6 s;
//! `GBWATCH_CHURN_SECS=60 cargo test --release --test threads churn` is the one-minute version.

use crate::common;

use common::Scratch;
use gbwatch::frame::PixelFormat;
use gbwatch::pipeline::{FeedOptions, FeedSet, Settings, SharedSettings};
use gbwatch::slot::SlotWriter;
use gbwatch::source::SourceSpec;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::PROCESS;

fn proc_count(what: &str) -> usize {
    match what {
        "fds" => std::fs::read_dir("/proc/self/fd").unwrap().count(),
        // The harness starts the next test's thread while this one runs (it waits for
        // PROCESS): threads named after tests (`churn::…`) are not the code's.
        _ => thread_names().iter().filter(|n| !n.contains("::")).count(),
    }
}

/// The names of this process's threads, from /proc.
fn thread_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .map(|n| n.trim().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn sixty_four_publishers_churning_every_second() {
    let _alone = PROCESS.lock().unwrap_or_else(|e| e.into_inner());
    let secs: u64 = std::env::var("GBWATCH_CHURN_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let dir = Scratch::new("churn");
    let set = FeedSet::start(
        vec![SourceSpec::SlotDir(dir.path().to_path_buf())],
        SharedSettings::new(Settings::with_overrides(1, None, Some(30), None).unwrap()),
        FeedOptions::default(),
    );
    std::thread::sleep(Duration::from_millis(300)); // new threads' names settle
    let (threads0, fds0) = (proc_count("threads"), proc_count("fds"));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..64)
        .map(|i| {
            let (dir, stop) = (dir.path().to_path_buf(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0u64;
                // Staggered so some publisher appears or disappears all the time.
                std::thread::sleep(Duration::from_millis(i * 15));
                while !stop.load(Ordering::Relaxed) {
                    let mut w = SlotWriter::create(
                        &dir,
                        &format!("env-{i:02}"),
                        160,
                        144,
                        PixelFormat::Rgba,
                    )
                    .unwrap();
                    let until = Instant::now() + Duration::from_millis(500);
                    while Instant::now() < until {
                        n += 1;
                        w.publish(&vec![(n % 251) as u8; 160 * 144 * 4], n).unwrap();
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    drop(w); // removes the slot
                    std::thread::sleep(Duration::from_millis(500));
                }
            })
        })
        .collect();
    let start = Instant::now();
    let (mut max_threads, mut max_fds, mut max_feeds) = (0, 0, 0);
    while start.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_millis(200));
        let feeds = set.feeds();
        max_feeds = max_feeds.max(feeds.len());
        for f in &feeds {
            let s = f.snapshot();
            assert!(s.invariant_holds(), "{}: {s:?}", f.name);
            while f.queue.pop().is_some() {}
        }
        max_threads = max_threads.max(proc_count("threads"));
        max_fds = max_fds.max(proc_count("fds"));
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let captured: u64 = set.feeds().iter().map(|f| f.snapshot().captured).sum();
    set.stop();
    eprintln!(
        "{secs}s: {max_feeds} feeds at most, threads {threads0} -> max {max_threads}, fds {fds0} -> max {max_fds}, {captured} frames captured"
    );
    assert_eq!(
        max_feeds, 64,
        "one feed per publisher name, reused across restarts"
    );
    assert!(captured > 64 * 5, "only {captured} frames captured");
    // 64 writer threads + 64 capture threads + discovery.
    assert!(
        max_threads <= threads0 + 128 + 8,
        "threads grew to {max_threads}"
    );
    // Open files: each writer holds its slot, each reader its copy.
    assert!(
        max_fds <= fds0 + 128 + 16,
        "file descriptors grew to {max_fds}"
    );
}

#[test]
fn a_feed_whose_slot_is_gone_retires() {
    let _alone = PROCESS.lock().unwrap_or_else(|e| e.into_inner());
    let dir = Scratch::new("retire");
    let mut w = SlotWriter::create(dir.path(), "brief", 160, 144, PixelFormat::Rgba).unwrap();
    w.publish(&vec![1u8; 160 * 144 * 4], 1).unwrap();
    let set = FeedSet::start(
        vec![SourceSpec::SlotDir(dir.path().to_path_buf())],
        SharedSettings::default(),
        FeedOptions::default(),
    );
    let set_ref = &set;
    let feeds_are = |empty: bool| move || (set_ref.feeds().is_empty() == empty).then_some(());
    common::eventually("the feed", Duration::from_secs(5), feeds_are(false));
    drop(w);
    common::eventually("the feed retired", Duration::from_secs(20), feeds_are(true));
    // A publisher with the same name coming back later is discovered afresh.
    let mut w = SlotWriter::create(dir.path(), "brief", 160, 144, PixelFormat::Rgba).unwrap();
    w.publish(&vec![2u8; 160 * 144 * 4], 1).unwrap();
    common::eventually(
        "the feed rediscovered",
        Duration::from_secs(5),
        feeds_are(false),
    );
    set.stop();
}

#[test]
fn serve_keeps_no_thread_for_a_feed_that_left_and_forgets_its_holder() {
    let _alone = PROCESS.lock().unwrap_or_else(|e| e.into_inner());
    let dir = Scratch::new("serve-churn");
    let set = FeedSet::start(
        vec![SourceSpec::SlotDir(dir.path().to_path_buf())],
        SharedSettings::default(),
        FeedOptions::default(),
    );
    let cancel = gbwatch::cancel::Cancel::new();
    let (latest, supervisor) = gbwatch::serve::LatestSet::start(
        set.clone(),
        gbwatch::encode::Backend::JpegEncoder,
        cancel.clone(),
    );
    // A new thread carries its parent's name until it has set its own.
    std::thread::sleep(Duration::from_millis(300));
    let threads0 = proc_count("threads");
    // Trainings under names of their own (a run prefix per run): 300 names in all, more
    // than the set remembers.
    for (run, envs) in [(0, 20), (1, 280)] {
        let writers: Vec<SlotWriter> = (0..envs)
            .map(|i| {
                let name = format!("run{run}-env-{i:03}");
                let mut w = SlotWriter::create(dir.path(), &name, 4, 2, PixelFormat::Rgba).unwrap();
                w.publish(&[run as u8; 32], 1).unwrap();
                w
            })
            .collect();
        common::eventually("the run's feeds", Duration::from_secs(20), || {
            let feeds = latest.feeds();
            (feeds.len() == envs && feeds.iter().all(|(_, l)| l.is_some())).then_some(())
        });
        drop(writers);
        common::eventually("the run's feeds retired", Duration::from_secs(30), || {
            set.feeds().is_empty().then_some(())
        });
    }
    // 300 distributors end one by one: under a loaded machine that takes seconds, a leak
    // never ends.
    let settled = common::within(Duration::from_secs(30), || {
        let n = proc_count("threads");
        (n <= threads0).then_some(n)
    })
    .unwrap_or_else(|| {
        panic!(
            "threads {threads0} -> still {:?} after 30 s",
            thread_names()
        )
    });
    let held = latest.held();
    eprintln!("threads {threads0} -> {settled} after 300 names; {held} holders");
    assert!(held < 300, "every holder kept: {held}");
    // A remembered env that comes back is the same feed, and its frames flow again.
    let mut w = SlotWriter::create(dir.path(), "run1-env-007", 4, 2, PixelFormat::Rgba).unwrap();
    w.publish(&[9u8; 32], 2).unwrap();
    common::eventually("the returning env's frame", Duration::from_secs(10), || {
        let feeds = latest.feeds();
        let (_, holder) = feeds.iter().find(|(f, _)| f.name == "run1-env-007")?;
        let (_, frame) = holder.as_ref()?.current()?;
        (frame.frame_index == 2).then_some(())
    });
    cancel.cancel();
    supervisor.join().unwrap();
    set.stop();
}
