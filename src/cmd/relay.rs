//! `gbwatch relay`: the compact stream on standard output, requests on standard input; the
//! remote end of an `ssh://` source.

use super::{batch_specs, feed_options, settings_from, Signals, StdoutClosed, Terminated};
use crate::cancel::Cancel;
use crate::cli::{PresetArgs, RelayArgs};
use crate::encode::Backend;
use crate::pipeline::{FeedSet, SharedSettings};
use crate::serve::LatestSet;
use std::io::{BufReader, Write};
use std::time::Duration;

/// Runs `gbwatch relay` until the viewer closes either side or a signal arrives.
pub fn run(args: RelayArgs) -> anyhow::Result<()> {
    let preset = PresetArgs {
        preset: "medium".into(),
        scale: None,
        fps: None,
        quality: None,
        queue: 10,
    };
    let specs = batch_specs(&args.source)?;
    let set = FeedSet::start(
        specs,
        SharedSettings::new(settings_from(&preset)?),
        feed_options(&args.source, &preset),
    );
    let signals = Signals::install()?;
    let cancel = Cancel::new();
    let (latest, distributor) = LatestSet::start(set.clone(), Backend::best(), cancel.clone());
    let watcher = {
        let (cancel, signals) = (cancel.clone(), signals.clone());
        std::thread::spawn(move || {
            while signals.received().is_none() && !cancel.sleep(Duration::from_millis(100)) {}
            cancel.cancel();
        })
    };
    let requests = Box::new(BufReader::new(std::io::stdin()));
    let mut out = std::io::stdout().lock();
    let result = crate::serve::stream(&latest, &mut out, requests, args.fps, &cancel, true);
    let _ = out.flush();
    cancel.cancel();
    let _ = watcher.join();
    crate::cancel::join_within(distributor, crate::serve::STOP_WAIT);
    set.stop();
    if let Some(signal) = signals.received() {
        return Err(Terminated(signal).into());
    }
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("writing the stream")),
    }
}
