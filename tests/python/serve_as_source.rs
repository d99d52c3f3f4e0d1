//! gbwatch's own `serve` as a source: one monitor shows envs from several "machines"
//! (two serve processes on loopback), through the same pipeline.

use crate::common;
use crate::common::serve as serve_support;

use common::{gbwatch, pyboy_publisher, run_ok, stats_json, Scratch};
use serve_support::serve;

#[test]
fn two_serve_processes_feed_one_monitor() {
    let a = Scratch::new("host-a");
    let b = Scratch::new("host-b");
    let _pa = pyboy_publisher(a.path(), "env-a", &["--fps", "60", "--seconds", "60"]);
    let _pb = pyboy_publisher(b.path(), "env-b", &["--fps", "60", "--seconds", "60"]);
    let host_a = serve(gbwatch(), &[a.path().to_str().unwrap()]);
    let host_b = serve(gbwatch(), &[b.path().to_str().unwrap()]);
    let (url_a, url_b) = (
        format!("http://{}", host_a.addr),
        format!("http://{}", host_b.addr),
    );

    // A bare base URL: the MJPEG stream of the remote serve is found and read.
    let v = stats_json(
        gbwatch()
            .args(["stats", "--json", "--duration", "4", "--fps", "10"])
            .args([&url_a, &url_b]),
    );
    let feeds = v["feeds"].as_array().unwrap();
    assert_eq!(feeds.len(), 2, "{v:#}");
    assert_eq!(v["method"], "http");
    for f in feeds {
        let n = |k: &str| f[k].as_u64().unwrap();
        assert!(n("captured") >= 10, "{f:#}");
        assert_eq!(n("captured"), n("delivered") + n("dropped") + n("queued"));
        assert_eq!(
            f["age_from_publisher"], false,
            "remote clocks are not ours: {f:#}"
        );
    }

    // dump from a remote serve: valid JPEGs of the remote frames, re-encoded at our preset.
    let out_dir = Scratch::new("remote-dump");
    run_ok(
        gbwatch()
            .args(["dump", "--count", "5", "--preset", "low", "--out"])
            .arg(out_dir.path())
            .arg(&url_a),
    );
    let files: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 5);
    for f in files {
        let (w, h) = serve_support::decode_jpeg(&std::fs::read(&f).unwrap());
        // The remote's frames arrive as published (160x144, over the compact stream, not
        // its MEDIUM JPEGs); we scale them by LOW's 1x.
        assert_eq!((w, h), (160, 144), "{}", f.display());
    }
}
