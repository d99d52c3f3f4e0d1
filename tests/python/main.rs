//! Tests on the real Python publisher and real PyBoy (the venv GBWATCH_PYTHON names): publishing, `gbwatch.wrap`, dump, stats, list, serve and its stream, clips of recordings, HTTP sources, waiting, faults, security, the command line's edges.

#[path = "../common/mod.rs"]
pub mod common;

mod cli_edges;
mod clip_recording;
mod compact_stream;
mod dump_e2e;
mod faults;
mod feed_lifecycle;
mod http_sources;
mod info_consumers;
mod jpeg_pillow;
mod list;
mod map_positions;
mod publisher_py;
mod security;
mod serve;
mod serve_as_source;
mod serve_clip;
mod slot_info;
mod slot_pyboy;
mod stats_json;
mod waiting;
mod wheel;
mod wrap_vector;
