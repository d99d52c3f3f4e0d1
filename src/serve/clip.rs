//! `GET /api/clip?source=NAME&seconds=S&format=gif`: the feed's last S seconds (default 30)
//! from its history, as an animated GIF with each frame's timing. MP4 is not served: it
//! would need ffmpeg and files, and serve reads nothing from disk.

use super::http::{Request, Response};
use crate::encode::clip::write_gif;
use crate::pipeline::Feed;

/// The clip `req` asks for of `feed`.
pub fn clip(feed: &Feed, req: &Request) -> Response {
    match req.param("format").unwrap_or("gif") {
        "gif" => {}
        "mp4" => {
            return Response::text(
                400,
                "format=mp4 is not served (it needs files, and serve reads none); use format=gif, \
                 or c in gbwatch watch",
            )
        }
        other => return Response::text(400, format!("format={other}: use gif")),
    }
    let seconds = match req.param("seconds").map(str::parse::<f64>) {
        None => 30.0,
        Some(Ok(s)) if s.is_finite() && s > 0.0 => s,
        Some(_) => return Response::text(400, "seconds must be a positive number"),
    };
    let Some(history) = &feed.history else {
        return Response::text(404, "serve keeps no history (started with --history 0)");
    };
    let Some(newest) = history.step(u64::MAX, 0) else {
        return Response::text(503, format!("no frame held yet of {}", feed.name))
            .with("Retry-After", "1");
    };
    let from = newest.saturating_sub((seconds * 1e9) as u64);
    let frames = history.frames(from, newest);
    let mut gif = Vec::new();
    match write_gif(&frames, &mut gif) {
        Ok(()) => Response::new(200, "image/gif", gif),
        Err(e) => Response::text(500, format!("clip of {}: {e}", feed.name)),
    }
}
