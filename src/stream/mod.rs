//! The compact multi-source stream (FORMAT.md): many sources' frames over one connection,
//! lossless and palette-indexed, each compressed against the previous frame of its source,
//! at the rates the viewer asks for. `serve` sends it on `/api/stream`, `gbwatch relay` on
//! standard output; the viewer reads it over HTTP or SSH.

pub mod command;
pub mod receive;
pub mod send;
pub mod wire;

pub use receive::{
    ConnectError, Connection, FrameDecoder, LinkState, StreamClient, StreamEnvSource, Transport,
};
pub use send::{stream, SendTotals, StreamEncoder};
pub use wire::{Message, Request, RequestError, SourceEntry, StreamError, StreamParser, VERSION};
