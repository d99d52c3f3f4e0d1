//! The compact multi-source stream's wire format (FORMAT.md): many sources' frames over one
//! connection, lossless and palette-indexed, each compressed against the previous frame of
//! its source, at the rates the viewer asks for. A format like the slot's, below everything
//! that uses it: `serve` sends it on `/api/stream` and `gbwatch relay` on standard output
//! ([`mod@crate::serve::stream`]); viewers read it over HTTP or SSH ([`crate::source::stream`]).

pub mod wire;

pub use wire::{Message, Request, RequestError, SourceEntry, StreamError, StreamParser, VERSION};
