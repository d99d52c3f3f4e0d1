//! Remote boxes as sources: the compact stream (`src/stream/FORMAT.md`) read over one
//! connection per remote (an HTTP request to a serve, or `ssh … gbwatch relay`), each remote
//! source a feed; and the codec both ends of the stream share.

mod client;
pub mod codec;
pub mod command;

pub use client::{ConnectError, Connection, LinkState, StreamClient, StreamEnvSource, Transport};
pub use codec::{FrameDecoder, StreamEncoder};
