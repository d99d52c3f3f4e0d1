//! Tests that need only Rust and the gbwatch binary: fuzzing of every parser, the slot under torn and hostile writes, the queue, image files, broken pipes, a flooded server, two pipelines on one remote.

#[path = "../common/mod.rs"]
pub mod common;

mod broken_pipe;
mod fuzz_info;
mod fuzz_parsers;
mod fuzz_slot;
mod fuzz_stream;
mod image_files;
mod info_unreadable;
mod queue_props;
mod serve_flood;
mod slot_bad_input;
mod slot_torn;
mod two_pipelines;
