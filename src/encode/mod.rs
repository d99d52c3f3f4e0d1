//! Scaling and JPEG encoding, shared by dump, serve and snapshots; clips (GIF, MP4).

mod baseline;
mod cache;
pub mod clip;
pub mod file;
mod jpeg;
mod scale;
mod ycbcr;

pub use cache::{EncodedJpeg, JpegCache};
pub use jpeg::{Backend, EncodeError, JpegEncoder};
pub use scale::scale_rgba;
