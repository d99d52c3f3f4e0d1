//! `gbwatch relay`: the compact stream on standard output, requests on standard input; the
//! remote end of an `ssh://` source.

use super::{batch_specs, feed_options, settings_from, Shutdown, StdoutClosed, Terminated};
use crate::cli::{PresetArgs, RelayArgs};
use crate::encode::Backend;
use crate::pipeline::{FeedSet, SharedSettings};
use crate::serve::LatestSet;
use std::io::{BufReader, Write};

/// Runs `gbwatch relay` until the viewer closes either side or a signal arrives.
pub fn run(args: RelayArgs, shutdown: &Shutdown) -> anyhow::Result<()> {
    let preset = PresetArgs {
        preset: "medium".into(),
        scale: None,
        fps: None,
        quality: None,
        queue: 10,
    };
    let specs = batch_specs(&args.source)?;
    let cancel = shutdown.cancel();
    let set = FeedSet::start_under(
        cancel,
        specs,
        SharedSettings::new(settings_from(&preset)?),
        feed_options(&args.source, &preset),
    );
    let (latest, distributor) = LatestSet::start(set.clone(), Backend::best(), cancel.child());
    let requests = Box::new(BufReader::new(std::io::stdin()));
    let mut out = std::io::stdout().lock();
    let result = crate::serve::stream(&latest, &mut out, requests, args.fps, cancel, true);
    let _ = out.flush();
    cancel.cancel();
    crate::cancel::join_within(distributor, crate::serve::STOP_WAIT);
    set.stop();
    if let Some(signal) = shutdown.received() {
        return Err(Terminated(signal).into());
    }
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("writing the stream")),
    }
}
