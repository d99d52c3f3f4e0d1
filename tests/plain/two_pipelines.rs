//! Two feed sets of one process on the same remote serve each get every frame they ask
//! for: the remote's stream is shared, its frames are not split between them.

use crate::common;
use crate::common::serve as serve_support;

use common::{eventually, gbwatch, Scratch};
use gbwatch::frame::PixelFormat;
use gbwatch::pipeline::{FeedOptions, FeedSet, FeedState, Settings, SharedSettings};
use gbwatch::slot::SlotWriter;
use gbwatch::source::SourceSpec;
use serve_support::serve;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn two_feed_sets_on_one_remote_each_get_every_frame() {
    let dir = Scratch::new("two-pipelines");
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = {
        let (dir, stop) = (dir.path().to_path_buf(), stop.clone());
        std::thread::spawn(move || {
            let mut w = SlotWriter::create(&dir, "env-00", 160, 144, PixelFormat::Rgba).unwrap();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let mut px = vec![0u8; 160 * 144 * 4];
                px[..8].copy_from_slice(&n.to_le_bytes());
                w.publish(&px, n).unwrap();
                std::thread::sleep(Duration::from_millis(25));
            }
        })
    };
    let server = serve(gbwatch(), &[dir.path().to_str().unwrap(), "--fps", "30"]);
    let url = format!("http://{}", server.addr);
    let start = || {
        FeedSet::start(
            vec![SourceSpec::parse(&url).unwrap()],
            SharedSettings::new(Settings::with_overrides(0, Some(1), Some(10), None).unwrap()),
            FeedOptions::default(),
        )
    };
    let (a, b) = (start(), start());
    let feed = |set: &FeedSet| {
        eventually("the remote env online", Duration::from_secs(60), || {
            set.feeds()
                .into_iter()
                .find(|f| f.status().state == FeedState::Online)
        })
    };
    let (fa, fb) = (feed(&a), feed(&b));
    std::thread::sleep(Duration::from_secs(1));
    let before = (fa.snapshot().captured, fb.snapshot().captured);
    std::thread::sleep(Duration::from_secs(3));
    let grew = (
        fa.snapshot().captured - before.0,
        fb.snapshot().captured - before.1,
    );
    // 10 fps asked by each: about 30 frames each in 3 s; split between them, about 15.
    assert!(
        grew.0 >= 24 && grew.1 >= 24,
        "frames in 3 s at 10 fps: {grew:?}"
    );
    a.stop();
    b.stop();
    stop.store(true, Ordering::Relaxed);
    publisher.join().unwrap();
}
