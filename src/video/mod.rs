//! Everything that touches FFmpeg lives here and nowhere else.

pub mod error;
pub mod motion;
pub mod nal;
pub mod rgb;
pub mod yuv;

pub use error::VideoError;
