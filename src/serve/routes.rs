//! The router and the endpoints that answer with a complete response.

use super::http::{Request, Response};
use super::latest::Latest;
use super::App;
use crate::pipeline::{Feed, FeedState, Preset, QualitySettings, StatsReport, PRESETS};
use serde::Serialize;
use std::sync::Arc;

/// What a request turns into.
pub enum Reply {
    Full(Response),
    /// A `/stream` of this feed.
    Stream(Arc<Latest>),
    /// The compact stream of every source (`/api/stream`), each at first at this rate.
    Compact(u32),
}

const NO_CACHE: &str = "no-cache, no-store, must-revalidate";

/// Dispatches on method and exact path; nothing is ever read from disk.
pub fn route(app: &App, req: &Request) -> Reply {
    let get = matches!(req.method.as_str(), "GET" | "HEAD");
    let path = req.path.as_str();
    if let Some(level) = path.strip_prefix("/api/streaming/quality/") {
        return Reply::Full(if req.method == "POST" {
            quality(app, level)
        } else {
            Response::text(
                405,
                "use POST to change the quality level (GET is refused so that a link or a prefetch cannot change it)",
            )
            .with("Allow", "POST")
        });
    }
    let known = matches!(
        path,
        "/" | "/index.html"
            | "/api/screenshot"
            | "/snapshot"
            | "/api/streaming/stats"
            | "/state"
            | "/stream"
            | "/api/sources"
            | "/api/stream"
            | "/api/map"
            | "/api/clip"
    );
    if !known {
        return Reply::Full(Response::text(404, format!("no such endpoint: {path}")));
    }
    if !get {
        return Reply::Full(
            Response::text(
                405,
                format!("{} is not allowed on {path}; use GET", req.method),
            )
            .with("Allow", "GET, HEAD"),
        );
    }
    match path {
        "/" | "/index.html" => Reply::Full(super::page::page()),
        "/api/streaming/stats" => Reply::Full(stats(app)),
        "/api/sources" => Reply::Full(sources(app)),
        "/api/map" => Reply::Full(
            Response::json(200, &super::map::MapAnswer::build(&app.set))
                .with("Cache-Control", NO_CACHE),
        ),
        "/api/stream" => match req.param("fps").map(str::parse::<u32>) {
            None => Reply::Compact(app.set.settings.get().fps()),
            Some(Ok(fps)) if fps <= crate::stream::wire::MAX_RATE => Reply::Compact(fps),
            Some(_) => Reply::Full(Response::text(400, "fps must be a whole number of 0-240")),
        },
        "/state" => Reply::Full(state(app, req)),
        "/api/screenshot" | "/snapshot" => Reply::Full(match pick(app, req) {
            Ok((feed, latest)) => screenshot(app, &feed, latest),
            Err(r) => r,
        }),
        "/api/clip" => Reply::Full(match pick(app, req) {
            Ok((feed, _)) => super::clip::clip(&feed, req),
            Err(r) => r,
        }),
        "/stream" => match pick(app, req) {
            Ok((_, Some(latest))) => Reply::Stream(latest),
            Ok((feed, None)) => Reply::Full(not_yet(&feed)),
            Err(r) => Reply::Full(r),
        },
        _ => Reply::Full(Response::text(404, format!("no such endpoint: {path}"))),
    }
}

/// The feed named by `?source=NAME`, else the first one.
fn pick(app: &App, req: &Request) -> Result<(Arc<Feed>, Option<Arc<Latest>>), Response> {
    let feeds = app.latest.feeds();
    match req.param("source") {
        Some(name) => feeds
            .into_iter()
            .find(|(f, _)| f.name == name)
            .ok_or_else(|| {
                let names = app
                    .set
                    .feeds()
                    .iter()
                    .map(|f| f.name.clone())
                    .collect::<Vec<_>>();
                Response::text(
                    404,
                    format!(
                        "no source named '{name}'; sources: {}",
                        list_or_none(&names)
                    ),
                )
            }),
        None => feeds.into_iter().next().ok_or_else(|| {
            Response::text(503, "no source yet: waiting for a publisher").with("Retry-After", "1")
        }),
    }
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none yet".into()
    } else {
        names.join(", ")
    }
}

fn not_yet(feed: &Feed) -> Response {
    let why = match feed.status().state {
        FeedState::Error(e) => format!("{}: {e}", feed.name),
        FeedState::Offline(r) => format!("no frame yet from {}: offline ({r})", feed.name),
        FeedState::Ended => format!("{} has ended without a frame", feed.name),
        _ => format!(
            "no frame yet from {}: waiting for the first frame",
            feed.name
        ),
    };
    Response::text(503, why).with("Retry-After", "1")
}

fn screenshot(app: &App, feed: &Feed, latest: Option<Arc<Latest>>) -> Response {
    let Some(latest) = latest else {
        return not_yet(feed);
    };
    match latest.jpeg(app.set.settings.get()) {
        Ok(Some(enc)) => Response {
            status: 200,
            content_type: "image/jpeg",
            headers: vec![
                ("Cache-Control", NO_CACHE.into()),
                ("X-Frame-Index", enc.frame.frame_index.to_string()),
                (
                    "X-Frame-Age-Us",
                    (enc.frame.age_ns(crate::clock::monotonic_ns()) / 1000).to_string(),
                ),
                (
                    "X-Encode",
                    if enc.fresh { "fresh" } else { "shared" }.into(),
                ),
            ],
            body: enc.jpeg.jpeg.clone(),
        },
        Ok(None) => not_yet(feed),
        Err(e) => Response::text(500, format!("encoding failed: {e}")),
    }
}

fn stats(app: &App) -> Response {
    let report = StatsReport::build(&app.set, app.set.settings.get(), app.backend.name());
    Response::json(200, &report).with("Cache-Control", NO_CACHE)
}

#[derive(Serialize)]
struct QualityReply {
    success: bool,
    level: &'static str,
    quality_settings: QualitySettings,
}

#[derive(Serialize)]
struct QualityError {
    success: bool,
    error: String,
    valid_levels: Vec<&'static str>,
}

fn quality(app: &App, level: &str) -> Response {
    match Preset::by_name(level) {
        Ok(i) => {
            app.set.settings.set_preset(i);
            let s = app.set.settings.get();
            Response::json(
                200,
                &QualityReply {
                    success: true,
                    level: s.preset().name,
                    quality_settings: QualitySettings {
                        scale: s.scale(),
                        fps: s.fps(),
                        compression: s.quality(),
                    },
                },
            )
        }
        Err(_) => Response::json(
            400,
            &QualityError {
                success: false,
                error: format!(
                    "unknown quality level '{level}'; valid levels: low, medium, high, ultra"
                ),
                valid_levels: PRESETS.iter().map(|p| p.name).collect(),
            },
        ),
    }
}

#[derive(Serialize)]
struct SourceInfo {
    name: String,
    state: String,
    online: bool,
    width: u32,
    height: u32,
    /// The frame index of the newest frame (`null` before the first).
    frame_index: Option<u64>,
    /// That frame's info, fields in the publisher's order (`null`: none).
    info: Option<Arc<crate::info::Info>>,
    /// Why that frame's info could not be read (`null`: it could, or there was none).
    info_error: Option<String>,
}

fn source_infos(app: &App) -> Vec<SourceInfo> {
    app.latest
        .feeds()
        .into_iter()
        .map(|(f, l)| {
            let state = f.status().state;
            let newest = l.and_then(|l| l.current()).map(|(_, fr)| fr);
            let (width, height) = newest.as_ref().map_or((0, 0), |fr| (fr.width, fr.height));
            SourceInfo {
                name: f.name.clone(),
                online: state == FeedState::Online,
                state: state.to_string(),
                width,
                height,
                frame_index: newest.as_ref().map(|fr| fr.frame_index),
                info_error: newest
                    .as_ref()
                    .and_then(|fr| fr.info_error.as_ref())
                    .map(|e| format!("info unreadable: {e}")),
                info: newest.and_then(|fr| fr.info.clone()),
            }
        })
        .collect()
}

fn sources(app: &App) -> Response {
    Response::json(200, &source_infos(app)).with("Cache-Control", NO_CACHE)
}

/// µStreamer's `/state` layout (the fields that apply), plus gbwatch's figures.
fn state(app: &App, req: &Request) -> Response {
    let s = app.set.settings.get();
    let picked = pick(app, req).ok();
    let info = picked
        .as_ref()
        .and_then(|(_, l)| l.as_ref()?.current())
        .and_then(|(_, fr)| fr.info.clone());
    let (online, captured_fps, width, height) =
        picked.as_ref().map_or((false, 0.0, 0, 0), |(f, l)| {
            let snap = f.snapshot();
            let (w, h) = l
                .as_ref()
                .and_then(|l| l.current())
                .map_or((0, 0), |(_, fr)| {
                    (fr.width * s.scale(), fr.height * s.scale())
                });
            (
                f.status().state == FeedState::Online,
                snap.captured_fps,
                w,
                h,
            )
        });
    let age = app.sent_age();
    let body = serde_json::json!({
        "ok": true,
        "result": {
            "instance_id": "",
            "encoder": { "type": "CPU", "quality": s.quality(), "backend": app.backend.name() },
            "source": {
                "name": picked.as_ref().map(|(f, _)| f.name.clone()),
                "resolution": { "width": width, "height": height },
                "online": online,
                "desired_fps": s.fps(),
                "captured_fps": captured_fps.round() as u64,
                "info": info,
            },
            "stream": {
                "clients": app.stream_clients.load(std::sync::atomic::Ordering::Relaxed),
                "parts_sent": app.parts_sent(),
                "frame_age_at_send_us": age,
            },
            "preset": s.preset().name,
            "sources": source_infos(app),
        }
    });
    Response::json(200, &body).with("Cache-Control", NO_CACHE)
}
