//! codecscope: inspect, check and reproduce codec-based video training data
//! (OneVision-Encoder / LLaVA-Next "codec mode").
//!
//! The CLI and the TUI are thin faces over this library: every algorithm is a pure
//! function of plain data, and only `video` touches FFmpeg.

pub mod analysis;
pub mod cli;
pub mod diagnose;
pub mod engine;
pub mod formats;
pub mod pipeline;
pub mod select;
#[cfg(test)]
mod testing;
pub mod tui;
pub mod video;
