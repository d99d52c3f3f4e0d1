//! The [`Painter`] on a thread of its own, so that encoding kitty or sixel pictures never
//! holds up input or panels (ratatui-image's `thread.rs` does the same): the monitor hands
//! it the pictures to show, at most one job at a time, and picks the escape codes up when
//! they are ready. Jobs are done in order, so the terminal always holds what the painter
//! thinks it holds.

use super::painter::{Painter, Picture};
use crate::frame::SharedFrame;
use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use ratatui::layout::Rect;
use std::thread::JoinHandle;
use std::time::Duration;

/// One picture of a job: the feed's key, its frame and where it goes.
#[derive(Debug, Clone)]
pub struct OwnedPicture {
    /// The feed's key.
    pub key: String,
    /// The frame to show.
    pub frame: SharedFrame,
    /// The cells it may fill.
    pub rect: Rect,
    /// Grey it (offline source).
    pub dim: bool,
}

enum Job {
    /// Show these pictures; first forget what the terminal shows when `invalidate`.
    Draw {
        pictures: Vec<OwnedPicture>,
        invalidate: bool,
    },
    /// Remove every picture.
    Clear,
}

/// A finished job: the escape codes to write and each drawn feed's encoding time.
#[derive(Debug, Default)]
pub struct Done {
    /// Escape codes, in the order they must reach the terminal.
    pub bytes: Vec<u8>,
    /// Encoding time per feed key.
    pub times: Vec<(String, Duration)>,
}

/// A painter running on its own thread.
pub struct PictureWorker {
    jobs: Option<Sender<Job>>,
    done: Receiver<Done>,
    busy: bool,
    name: String,
    thread: Option<JoinHandle<()>>,
}

impl PictureWorker {
    /// Starts `painter` on a thread named "pictures".
    pub fn spawn(mut painter: Painter) -> PictureWorker {
        let (jobs, rx) = unbounded::<Job>();
        let (tx, done) = bounded::<Done>(2);
        let name = painter.name();
        let thread = std::thread::Builder::new()
            .name("pictures".into())
            .spawn(move || {
                for job in rx {
                    let mut out = Done::default();
                    match job {
                        Job::Draw {
                            pictures,
                            invalidate,
                        } => {
                            if invalidate {
                                painter.invalidate();
                            }
                            let pictures: Vec<Picture> = pictures.iter().map(borrowed).collect();
                            out.times = painter.draw(&pictures, &mut out.bytes);
                        }
                        Job::Clear => painter.clear(&mut out.bytes),
                    }
                    if tx.send(out).is_err() {
                        break;
                    }
                }
            })
            .expect("spawn the picture thread");
        PictureWorker {
            jobs: Some(jobs),
            done,
            busy: false,
            name,
            thread: Some(thread),
        }
    }

    /// How pictures are drawn, in words.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True while a job is out.
    pub fn busy(&self) -> bool {
        self.busy
    }

    /// Where finished jobs arrive (for a `select!`); call [`finished`](Self::finished)
    /// for each one received.
    pub fn done(&self) -> Receiver<Done> {
        self.done.clone()
    }

    /// Marks the job that is out as received: the worker takes another.
    pub fn finished(&mut self) {
        self.busy = false;
    }

    /// Hands out a job (only when not [`busy`](Self::busy)).
    pub fn submit(&mut self, pictures: Vec<OwnedPicture>, invalidate: bool) {
        if let Some(jobs) = &self.jobs {
            self.busy = jobs
                .send(Job::Draw {
                    pictures,
                    invalidate,
                })
                .is_ok();
        }
    }

    /// Waits up to `timeout` for the job that is out and for a last one that removes every
    /// picture; returns the escape codes of both, in order, and ends the thread.
    pub fn finish(mut self, timeout: Duration) -> Vec<u8> {
        let mut bytes = Vec::new();
        let deadline = std::time::Instant::now() + timeout;
        if let Some(jobs) = self.jobs.take() {
            let _ = jobs.send(Job::Clear);
        }
        let wanted = if self.busy { 2 } else { 1 };
        for _ in 0..wanted {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.done.recv_timeout(left) {
                Ok(done) => bytes.extend(done.bytes),
                Err(_) => return bytes, // left behind: it ends with the process
            }
        }
        if let Some(t) = self.thread.take() {
            let _ = crate::cancel::join_within(
                t,
                deadline.saturating_duration_since(std::time::Instant::now()),
            );
        }
        bytes
    }
}

fn borrowed(s: &OwnedPicture) -> Picture<'_> {
    Picture {
        key: &s.key,
        rgba: &s.frame.pixels[..],
        width: s.frame.width,
        height: s.frame.height,
        content_id: s.frame.content_id,
        rect: s.rect,
        dim: s.dim,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::frame;
    use crate::tui::graphics::caps::{KittyMode, Placement, Protocol};

    #[test]
    fn jobs_run_off_the_caller_in_order_and_finish_deletes_every_image() {
        let mode = KittyMode {
            placement: Placement::Classic,
            animation: true,
            deflate: false,
            tmux: false,
        };
        let painter = Painter::new(Protocol::Kitty(mode), (10, 20)).unwrap();
        let mut w = PictureWorker::spawn(painter);
        let picture = |key: &str| OwnedPicture {
            key: key.into(),
            frame: frame(160, 144, None),
            rect: Rect::new(0, 0, 40, 20),
            dim: false,
        };
        assert!(!w.busy());
        w.submit(vec![picture("a"), picture("b")], false);
        assert!(w.busy(), "a job is out");
        let done = w.done().recv_timeout(Duration::from_secs(5)).unwrap();
        w.finished();
        assert_eq!(done.times.len(), 2);
        let text = String::from_utf8_lossy(&done.bytes).into_owned();
        assert!(text.contains("a=T,i=100,") && text.contains("a=T,i=101,"));
        // Invalidated: sent in full again.
        w.submit(vec![picture("a")], true);
        let done = w.done().recv_timeout(Duration::from_secs(5)).unwrap();
        w.finished();
        let text = String::from_utf8_lossy(&done.bytes).into_owned();
        assert!(
            text.contains("a=d,d=I,i=101") && text.contains("a=T,i=100,"),
            "{text}"
        );
        let last = String::from_utf8_lossy(&w.finish(Duration::from_secs(5))).into_owned();
        assert_eq!(last, "\x1b_Ga=d,d=I,i=100,q=2\x1b\\");
    }
}
